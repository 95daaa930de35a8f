//! Sources: inbound webhooks. The service that owns the `sources` and `inbound_requests`
//! tables: settings (validated, secrets sealed under the master key, masked in answers),
//! and the inbound log. A request posted to a source's URL is verified (`verify`), turned
//! into an event and published through the normal pipeline (`receive`).

pub mod receive;
pub mod verify;
pub mod xml;

use super::audit::AuditEntry;
use super::crypto::Keyring;
use super::{Actor, Db, now_ms};
use crate::error::{AppError, AppResult};
use crate::time_fmt::Timestamp;
use crate::types::endpoints::MASK;
use crate::types::ids::{InboundRequestId, SourceId};
use crate::types::sources::{InboundRequestView, SourceInput, Verdict, Verification};
use crate::types::{FieldError, Page, Role};
use crate::with_db;
use serde_json::Value;
use std::sync::Arc;

#[derive(Clone)]
pub struct Sources {
    db: Db,
    keys: Arc<Keyring>,
    /// `--public-url`: source URLs are absolute when it is set.
    pub public_url: Option<String>,
    /// `--trusted-proxy`: whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<(std::net::IpAddr, u8)>,
    /// `--max-body-bytes`: a source's body limit unless it sets its own.
    pub default_body_limit: usize,
}

#[derive(sqlx::FromRow)]
struct SourceRow {
    id: String,
    config: String,
    created_at: i64,
    updated_at: i64,
}

fn context(id: &str, path: &str) -> String {
    format!("source/{id}/verification.{path}")
}

/// A CIDR (`192.0.2.0/24`, `2001:db8::/32`) or a single address.
pub fn parse_cidr(s: &str) -> Option<(std::net::IpAddr, u8)> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a.parse().ok()?, l.parse().ok()?),
        None => {
            let a: std::net::IpAddr = s.parse().ok()?;
            (a, if a.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((addr, len))
}

/// Is `ip` inside `cidr`? (Parsed by [`parse_cidr`]; IPv4-mapped IPv6 counts as IPv4.)
pub fn contains(cidr: (std::net::IpAddr, u8), ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    match (cidr.0, ip) {
        (IpAddr::V4(net), IpAddr::V4(a)) => {
            let mask = u32::MAX.checked_shl(32 - cidr.1 as u32).unwrap_or(0);
            u32::from(net) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(net), IpAddr::V6(a)) => {
            let mask = u128::MAX.checked_shl(128 - cidr.1 as u32).unwrap_or(0);
            u128::from(net) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// The client's address: the connection's, or, when that is a trusted proxy, the last
/// address in `X-Forwarded-For` that is not one (proxies append what they saw, so
/// anything left of a trusted hop is the client's own claim and is not believed).
pub fn client_address(
    peer: std::net::IpAddr,
    forwarded_for: Option<&str>,
    trusted: &[(std::net::IpAddr, u8)],
) -> std::net::IpAddr {
    let is_trusted = |ip: std::net::IpAddr| trusted.iter().any(|c| contains(*c, ip));
    if !is_trusted(peer) {
        return peer;
    }
    let Some(header) = forwarded_for else {
        return peer;
    };
    let mut client = peer;
    for hop in header.rsplit(',') {
        match hop.trim().parse::<std::net::IpAddr>() {
            Ok(ip) if is_trusted(ip) => client = ip,
            Ok(ip) => return ip,
            // An unreadable hop: stop at the last address we could trust.
            Err(_) => return client,
        }
    }
    client
}

/// Every problem with a source's settings, each with its path.
fn validate(s: &SourceInput, known_type: &dyn Fn(&str) -> bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if s.name.trim().is_empty() {
        errors.push(FieldError::new("name", "is required"));
    }
    match super::domain::EventTypeName::parse_user_defined(&s.event_type) {
        Err(_) if s.event_type.starts_with("hookline") => errors.push(FieldError::new(
            "event_type",
            "the hookline.* names are Hookline's own events",
        )),
        Err(_) => errors.push(FieldError::new("event_type", "is not an event type name")),
        Ok(_) if !known_type(&s.event_type) => errors.push(FieldError::new(
            "event_type",
            format!("no event type {} (create it first)", s.event_type),
        )),
        Ok(_) => {}
    }
    if let Some(from) = &s.event_type_from {
        let places = [&from.header, &from.query, &from.json_path]
            .iter()
            .filter(|p| p.as_deref().is_some_and(|p| !p.trim().is_empty()))
            .count();
        if places != 1 {
            errors.push(FieldError::new(
                "event_type_from",
                "name exactly one of header, query or json_path",
            ));
        }
        for (value, target) in &from.map {
            if !known_type(target) {
                errors.push(FieldError::new(
                    format!("event_type_from.map.{value}"),
                    format!("no event type {target}"),
                ));
            }
        }
    }
    if let Some(n) = s.max_body_bytes
        && !(1..=crate::types::sources::MAX_SOURCE_BODY_BYTES).contains(&n)
    {
        errors.push(FieldError::new(
            "max_body_bytes",
            format!(
                "must be between 1 and {} (10 MiB)",
                crate::types::sources::MAX_SOURCE_BODY_BYTES
            ),
        ));
    }
    if let Some(r) = &s.response {
        if !(200..300).contains(&r.status) {
            errors.push(FieldError::new("response.status", "must be a 2xx status"));
        }
        if let Some(b) = &r.body
            && let Err(e) = super::endpoints::template::check(b, "response.body")
        {
            errors.extend(e);
        }
    }
    if let Some(t) = &s.transform {
        let mut check = |v: &Value, at: &str| {
            if let Err(e) = super::endpoints::template::check(v, at) {
                errors.extend(e);
            }
        };
        check(&t.data, "transform.data");
        if let Some(c) = &t.context {
            check(c, "transform.context");
        }
    }
    for (i, c) in s.allowed_ips.iter().enumerate() {
        if parse_cidr(c.trim()).is_none() {
            errors.push(FieldError::new(
                format!("allowed_ips[{i}]"),
                "is not an address or CIDR such as 192.0.2.0/24",
            ));
        }
    }
    let mut v = s.verification.clone();
    for (path, value) in v.secrets_mut() {
        if value.trim().is_empty() {
            errors.push(FieldError::new(
                format!("verification.{path}"),
                "is required",
            ));
        }
    }
    match &s.verification {
        Verification::StandardWebhooks { secret, .. } => {
            use base64::Engine;
            let raw = secret.strip_prefix("whsec_").unwrap_or(secret);
            if secret != MASK
                && base64::engine::general_purpose::STANDARD
                    .decode(raw)
                    .is_err()
            {
                errors.push(FieldError::new(
                    "verification.secret",
                    "must be whsec_ followed by base64",
                ));
            }
        }
        Verification::Hmac {
            header,
            signed,
            timestamp_header,
            ..
        } => {
            if header.trim().is_empty() {
                errors.push(FieldError::new("verification.header", "is required"));
            }
            if !signed.contains("{body}") {
                errors.push(FieldError::new(
                    "verification.signed",
                    "must contain {body}, e.g. {timestamp}.{body}",
                ));
            }
            if signed.contains("{timestamp}") && timestamp_header.is_none() {
                errors.push(FieldError::new(
                    "verification.timestamp_header",
                    "is required when {timestamp} is signed",
                ));
            }
        }
        Verification::Jwt { algorithm, key, .. } if key != MASK => {
            use crate::types::sources::JwtAlgorithm;
            use jsonwebtoken::DecodingKey;
            let bad = match algorithm {
                JwtAlgorithm::HS256 => false,
                JwtAlgorithm::RS256 => DecodingKey::from_rsa_pem(key.as_bytes()).is_err(),
                JwtAlgorithm::ES256 => DecodingKey::from_ec_pem(key.as_bytes()).is_err(),
            };
            if bad {
                errors.push(FieldError::new(
                    "verification.key",
                    format!("must be the partner's {algorithm:?} public key in PEM"),
                ));
            }
        }
        Verification::ApiKey { header, query, .. } if header.is_none() && query.is_none() => {
            errors.push(FieldError::new(
                "verification.header",
                "say where the key comes: header or query",
            ));
        }
        _ => {}
    }
    errors
}

impl Sources {
    pub fn new(db: Db, keys: Arc<Keyring>) -> Self {
        Self {
            db,
            keys,
            public_url: None,
            trusted_proxies: Vec::new(),
            default_body_limit: 1024 * 1024,
        }
    }

    fn url(&self, id: &str) -> String {
        match &self.public_url {
            Some(base) => format!("{}/in/{id}", base.trim_end_matches('/')),
            None => format!("/in/{id}"),
        }
    }

    fn seal(&self, id: &str, s: &SourceInput) -> String {
        let mut sealed = s.clone();
        for (path, value) in sealed.verification.secrets_mut() {
            *value = self.keys.seal(&context(id, path), value);
        }
        serde_json::to_string(&sealed).expect("settings always encode")
    }

    /// The stored settings with secrets opened: for verifying, server-side only.
    fn open(&self, id: &str, config: &str) -> AppResult<SourceInput> {
        let mut s: SourceInput = serde_json::from_str(config).map_err(|e| {
            AppError::internal(
                "stored source settings are unreadable",
                format!("{id}: {e}"),
            )
        })?;
        for (path, value) in s.verification.secrets_mut() {
            let plain = self.keys.open(&context(id, path), value).map_err(|e| {
                AppError::internal(
                    "a stored source secret cannot be decrypted",
                    format!("source {id}, {path}: {e}"),
                )
            })?;
            *value = plain.expose().to_string();
        }
        Ok(s)
    }

    fn view(&self, row: SourceRow) -> AppResult<crate::types::sources::SourceView> {
        let settings = self.open(&row.id, &row.config)?;
        let mut shown = settings.clone();
        shown.verification = settings.verification.masked();
        Ok(crate::types::sources::SourceView {
            url: self.url(&row.id),
            warning: matches!(settings.verification, Verification::None).then(|| {
                "verification is none: anyone who knows the URL can post events".to_string()
            }),
            id: SourceId::from_db(row.id),
            settings: shown,
            created_at: Timestamp(row.created_at),
            updated_at: Timestamp(row.updated_at),
        })
    }

    async fn checked(&self, mut s: SourceInput) -> AppResult<SourceInput> {
        s.name = s.name.trim().to_owned();
        let types = super::catalog::event_types::EventTypes::new(self.db.clone())
            .all()
            .await?;
        let errors = validate(&s, &|n| types.iter().any(|t| t.name == n));
        if errors.is_empty() {
            Ok(s)
        } else {
            Err(AppError::invalid_many(errors))
        }
    }

    pub async fn create(
        &self,
        actor: &Actor,
        input: SourceInput,
    ) -> AppResult<crate::types::sources::SourceView> {
        actor.require(Role::Editor)?;
        if input.verification.secrets_mut_count() > 0 && input.verification.has_mask() {
            return Err(AppError::invalid(
                "verification",
                "a new source needs its secrets, not ***",
            ));
        }
        let s = self.checked(input).await?;
        let id = SourceId::generate();
        let now = now_ms();
        let config = self.seal(id.as_str(), &s);
        let mut shown = s.clone();
        shown.verification = s.verification.masked();
        let audit = AuditEntry::new(
            actor,
            "create",
            "source",
            id.as_str(),
            serde_json::to_value(&shown).unwrap_or_default(),
        );
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO sources (id, name, config, tenant, enabled, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
            )
            .bind(id.as_str())
            .bind(&s.name)
            .bind(&config)
            .bind(&s.tenant)
            .bind(s.enabled)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            audit.insert_in(&mut tx).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        })?;
        self.get(actor, &id).await
    }

    async fn row(&self, id: &str) -> AppResult<SourceRow> {
        let row: Option<SourceRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(
            "SELECT id, config, created_at, updated_at FROM sources WHERE id = $1 AND deleted_at IS NULL"
        )
        .bind(id)
        .fetch_optional(pool)
        .await
        })?;
        row.ok_or_else(|| AppError::NotFound(format!("source {id}")))
    }

    pub async fn get(
        &self,
        actor: &Actor,
        id: &SourceId,
    ) -> AppResult<crate::types::sources::SourceView> {
        actor.require(Role::Viewer)?;
        self.view(self.row(id.as_str()).await?)
    }

    pub async fn list(
        &self,
        actor: &Actor,
        cursor: Option<&str>,
        limit: u32,
    ) -> AppResult<Page<crate::types::sources::SourceView>> {
        actor.require(Role::Viewer)?;
        let limit = limit.clamp(1, 500) as i64;
        let rows: Vec<SourceRow> = with_db!(&self.db, |pool| sqlx::query_as(
            "SELECT id, config, created_at, updated_at FROM sources WHERE deleted_at IS NULL \
             AND ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
        )
        .bind(cursor)
        .bind(limit + 1)
        .fetch_all(pool)
        .await)?;
        let items = rows
            .into_iter()
            .map(|r| self.view(r))
            .collect::<AppResult<Vec<_>>>()?;
        Ok(Page::cut(items, limit as usize, |s| s.id.to_string()))
    }

    /// The given top-level fields replace the current ones. A secret sent back as `***`
    /// keeps its stored value (when the scheme is unchanged).
    pub async fn patch(
        &self,
        actor: &Actor,
        id: &SourceId,
        patch: Value,
    ) -> AppResult<crate::types::sources::SourceView> {
        actor.require(Role::Editor)?;
        let row = self.row(id.as_str()).await?;
        let current = self.open(&row.id, &row.config)?;
        let mut merged =
            serde_json::to_value(&current).map_err(|e| AppError::internal("encoding source", e))?;
        // Top-level keys replace (like endpoints): `verification` is sent whole.
        if let (Value::Object(map), Value::Object(patch)) = (&mut merged, patch) {
            map.extend(patch);
        }
        let mut next: SourceInput = serde_path_to_error::deserialize(merged).map_err(|e| {
            let path = e.path().to_string();
            AppError::invalid(
                if path == "." { String::new() } else { path },
                e.into_inner().to_string(),
            )
        })?;
        if next.verification.kind() == current.verification.kind() {
            let mut old = current.verification.clone();
            let old: Vec<(&str, String)> = old
                .secrets_mut()
                .into_iter()
                .map(|(p, v)| (p, v.clone()))
                .collect();
            for (path, value) in next.verification.secrets_mut() {
                if value == MASK
                    && let Some((_, stored)) = old.iter().find(|(p, _)| *p == path)
                {
                    *value = stored.clone();
                }
            }
        }
        if next.verification.has_mask() {
            return Err(AppError::invalid(
                "verification",
                "*** keeps a stored secret only for the same scheme; send the new secret",
            ));
        }
        let next = self.checked(next).await?;
        let config = self.seal(&row.id, &next);
        let now = now_ms();
        let mut shown = next.clone();
        shown.verification = next.verification.masked();
        let audit = AuditEntry::new(
            actor,
            "update",
            "source",
            &row.id,
            serde_json::to_value(&shown).unwrap_or_default(),
        );
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE sources SET name = $1, config = $2, tenant = $3, enabled = $4, updated_at = $5 \
                 WHERE id = $6 AND deleted_at IS NULL",
            )
            .bind(&next.name)
            .bind(&config)
            .bind(&next.tenant)
            .bind(next.enabled)
            .bind(now)
            .bind(&row.id)
            .execute(&mut *tx)
            .await?;
            audit.insert_in(&mut tx).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        })?;
        self.get(actor, id).await
    }

    /// Deletes the source: its URL answers 404 from now on; its log stays until retention.
    pub async fn delete(&self, actor: &Actor, id: &SourceId) -> AppResult<()> {
        actor.require(Role::Editor)?;
        let row = self.row(id.as_str()).await?;
        let audit = AuditEntry::new(actor, "delete", "source", &row.id, Value::Null);
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE sources SET deleted_at = $1, enabled = $2 WHERE id = $3")
                .bind(now_ms())
                .bind(false)
                .bind(&row.id)
                .execute(&mut *tx)
                .await?;
            audit.insert_in(&mut tx).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        })
    }

    /// The inbound log, newest first.
    pub async fn requests(
        &self,
        actor: &Actor,
        id: &SourceId,
        cursor: Option<&str>,
        limit: u32,
    ) -> AppResult<Page<InboundRequestView>> {
        actor.require(Role::Viewer)?;
        self.row(id.as_str()).await?;
        let limit = limit.clamp(1, 500) as i64;
        type Row = (
            String,
            i64,
            String,
            String,
            Vec<u8>,
            String,
            Option<String>,
            i64,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = with_db!(&self.db, |pool| {
            sqlx::query_as(
            "SELECT id, received_at, remote_addr, headers, body, verdict, reason, status, event_id, dedup_key \
             FROM inbound_requests WHERE source_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
        )
        .bind(id.as_str())
        .bind(cursor)
        .bind(limit + 1)
        .fetch_all(pool)
        .await
        })?;
        let items = rows
            .into_iter()
            .map(|r| {
                Ok(InboundRequestView {
                    id: InboundRequestId::from_db(r.0),
                    source_id: id.clone(),
                    received_at: Timestamp(r.1),
                    remote_addr: r.2,
                    headers: serde_json::from_str(&r.3).unwrap_or(Value::Null),
                    body: String::from_utf8_lossy(&r.4).into_owned(),
                    verdict: Verdict::parse(&r.5).ok_or_else(|| {
                        AppError::internal("an inbound request has an unknown verdict", r.5.clone())
                    })?,
                    reason: r.6,
                    status: r.7 as u16,
                    event_id: r.8.map(crate::types::ids::EventId::from_db),
                    dedup_key: r.9,
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        Ok(Page::cut(items, limit as usize, |r| r.id.to_string()))
    }
}

impl Verification {
    fn secrets_mut_count(&self) -> usize {
        self.clone().secrets_mut().len()
    }

    fn has_mask(&self) -> bool {
        self.clone().secrets_mut().iter().any(|(_, v)| **v == MASK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy = vec![parse_cidr("10.0.0.0/8").unwrap()];
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        // From a trusted proxy: the last hop it did not add itself.
        assert_eq!(
            client_address(ip("10.0.0.5"), Some("203.0.113.9"), &proxy),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_address(
                ip("10.0.0.5"),
                Some("198.51.100.1, 203.0.113.9, 10.0.0.7"),
                &proxy
            ),
            ip("203.0.113.9"),
            "a client's own claim left of the real hop is not believed"
        );
        // From anyone else the header is ignored.
        assert_eq!(
            client_address(ip("192.0.2.1"), Some("10.1.1.1"), &proxy),
            ip("192.0.2.1")
        );
        assert_eq!(client_address(ip("10.0.0.5"), None, &proxy), ip("10.0.0.5"));
        assert_eq!(
            client_address(ip("10.0.0.5"), Some("nonsense"), &proxy),
            ip("10.0.0.5")
        );
        assert_eq!(
            client_address(ip("10.0.0.5"), Some("1.2.3.4"), &[]),
            ip("10.0.0.5")
        );
    }

    #[test]
    fn cidrs_match_their_addresses_only() {
        let net = parse_cidr("192.0.2.0/24").unwrap();
        assert!(contains(net, "192.0.2.77".parse().unwrap()));
        assert!(!contains(net, "192.0.3.1".parse().unwrap()));
        assert!(
            contains(net, "::ffff:192.0.2.9".parse().unwrap()),
            "v4-mapped"
        );
        let one = parse_cidr("10.1.2.3").unwrap();
        assert!(contains(one, "10.1.2.3".parse().unwrap()));
        assert!(!contains(one, "10.1.2.4".parse().unwrap()));
        assert!(contains(
            parse_cidr("0.0.0.0/0").unwrap(),
            "8.8.8.8".parse().unwrap()
        ));
        assert!(contains(
            parse_cidr("2001:db8::/32").unwrap(),
            "2001:db8::1".parse().unwrap()
        ));
        for bad in ["", "10.0.0.0/33", "nope", "10.0.0/8"] {
            assert!(parse_cidr(bad).is_none(), "{bad}");
        }
    }
}
