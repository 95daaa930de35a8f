//! Endpoints: where events go. Validation of every setting, signing secrets (with a 24 h
//! overlap on rotation), PATCH as a merge onto the stored settings, and soft deletion that
//! cancels pending deliveries visibly instead of dropping them.

use super::audit::{AuditEntry, diff};
use super::domain::EventTypeName;
use super::{Actor, Db, filter, now_ms, template};
use crate::error::{AppError, AppResult};
use crate::time_fmt::Timestamp;
use crate::types::FieldError;
pub use crate::types::endpoints::subscribes;
use crate::types::endpoints::{EndpointAuth, EndpointInput, EndpointSecret, EndpointView};
use crate::types::{Page, Role};
use crate::{audit_insert, with_db};
use base64::Engine;
use rand::RngCore;
use serde_json::Value;
use std::time::Duration;

pub const SECRET_PREFIX: &str = "whsec_";
/// How long a rotated-out secret keeps signing beside the new one.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3600 * 1000;

/// Headers Hookline sets itself; an endpoint may not override them.
const RESERVED_HEADERS: [&str; 10] = [
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "user-agent",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "authorization",
];

pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Checks every setting, reporting all problems with their paths. `known_types` answers
/// whether an exact event type name exists.
pub fn validate(input: &EndpointInput, known_types: &dyn Fn(&str) -> bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut err = |p: String, m: String| errors.push(FieldError::new(p, m));
    let name_len = input.name.trim().chars().count();
    if name_len == 0 || name_len > 100 {
        err("name".into(), "must be 1 to 100 characters".into());
    }
    if input.description.chars().count() > 2000 {
        err(
            "description".into(),
            "must be at most 2000 characters".into(),
        );
    }
    if let Err(m) = check_url(&input.url) {
        err("url".into(), m);
    }
    if input.event_types.is_empty() {
        err(
            "event_types".into(),
            "list at least one event type, or \"*\" for all".into(),
        );
    }
    for (i, pattern) in input.event_types.iter().enumerate() {
        let at = format!("event_types[{i}]");
        if pattern == "*" {
            continue;
        }
        if let Some(prefix) = pattern.strip_suffix(".*") {
            if EventTypeName::parse(prefix).is_err() {
                err(
                    at,
                    format!("'{pattern}' is not a valid wildcard; use e.g. order.*"),
                );
            }
        } else if EventTypeName::parse(pattern).is_err() {
            err(
                at,
                format!("'{pattern}' is not an event type name, a prefix.* wildcard or *"),
            );
        } else if !known_types(pattern) && !pattern.starts_with("hookline.") {
            err(at, format!("there is no event type '{pattern}'"));
        }
    }
    if let Some(f) = &input.filter
        && !f.is_null()
        && let Err(e) = filter::parse(f, "filter")
    {
        errors.extend(e);
    }
    let mut err = |p: String, m: String| errors.push(FieldError::new(p, m));
    if input.headers.len() > 50 {
        err("headers".into(), "at most 50 headers".into());
    }
    for (name, value) in &input.headers {
        let at = format!("headers.{name}");
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        {
            err(at, "is not a valid header name".into());
        } else if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            err(
                at,
                "is set by Hookline and cannot be overridden (use auth for Authorization)".into(),
            );
        } else if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) || value.len() > 8192 {
            err(at, "must be one line of at most 8192 bytes".into());
        }
    }
    match &input.auth {
        EndpointAuth::None => {}
        EndpointAuth::ApiKey { header, value } => {
            let reserved = RESERVED_HEADERS.contains(&header.to_ascii_lowercase().as_str())
                && !header.eq_ignore_ascii_case("authorization");
            if header.is_empty() || reserved {
                err(
                    "auth.header".into(),
                    "must be a header name such as X-Api-Key".into(),
                );
            }
            if value.is_empty() {
                err("auth.value".into(), "is required".into());
            }
        }
        EndpointAuth::Bearer { token } if token.is_empty() => {
            err("auth.token".into(), "is required".into())
        }
        EndpointAuth::Bearer { .. } => {}
        EndpointAuth::Basic { username, password } => {
            if username.is_empty() || username.contains(':') {
                err(
                    "auth.username".into(),
                    "is required and may not contain ':'".into(),
                );
            }
            if password.is_empty() {
                err("auth.password".into(), "is required".into());
            }
        }
        EndpointAuth::Oauth2 {
            token_url,
            client_id,
            client_secret,
            ..
        } => {
            if let Err(m) = check_url(token_url) {
                err("auth.token_url".into(), m);
            }
            if client_id.is_empty() {
                err("auth.client_id".into(), "is required".into());
            }
            if client_secret.is_empty() {
                err("auth.client_secret".into(), "is required".into());
            }
        }
    }
    match crate::duration::parse(&input.timeout) {
        Ok(d) if d >= Duration::from_millis(100) && d <= Duration::from_secs(300) => {}
        Ok(_) => err("timeout".into(), "must be between 100ms and 5m".into()),
        Err(e) => err("timeout".into(), e),
    }
    if let Some(schedule) = &input.retry_schedule {
        if schedule.len() > 25 {
            err("retry_schedule".into(), "at most 25 retries".into());
        }
        for (i, d) in schedule.iter().enumerate() {
            match crate::duration::parse(d) {
                Ok(d) if d <= Duration::from_secs(7 * 86_400) => {}
                Ok(_) => err(format!("retry_schedule[{i}]"), "must be at most 7d".into()),
                Err(e) => err(format!("retry_schedule[{i}]"), e),
            }
        }
    }
    if let Some(r) = input.rate_limit_per_minute
        && !(1..=1_000_000).contains(&r)
    {
        err(
            "rate_limit_per_minute".into(),
            "must be between 1 and 1000000".into(),
        );
    }
    if let Some(c) = input.max_concurrency
        && !(1..=1000).contains(&c)
    {
        err(
            "max_concurrency".into(),
            "must be between 1 and 1000".into(),
        );
    }
    if let Some(b) = &input.batch {
        if !(1..=1000).contains(&b.max_events) {
            err(
                "batch.max_events".into(),
                "must be between 1 and 1000".into(),
            );
        }
        match crate::duration::parse(&b.max_wait) {
            Ok(d) if d >= Duration::from_millis(1) && d <= Duration::from_secs(60) => {}
            Ok(_) => err(
                "batch.max_wait".into(),
                "must be between 1ms and 60s".into(),
            ),
            Err(e) => err("batch.max_wait".into(), e),
        }
        if input.ordered {
            err(
                "batch".into(),
                "cannot be combined with ordered delivery".into(),
            );
        }
    }
    if let Some(t) = &input.tenant
        && let Err(m) = super::domain::check_tenant(t)
    {
        err("tenant".into(), m.into());
    }
    if let Some(t) = &input.template
        && !t.is_null()
        && let Err(e) = template::check(t, "template")
    {
        errors.extend(e);
    }
    errors
}

fn check_url(raw: &str) -> Result<(), String> {
    let url = url::Url::parse(raw.trim()).map_err(|e| format!("is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must start with http:// or https://".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("needs a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials; use auth".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a #fragment".into());
    }
    Ok(())
}

/// Fills empty or masked credentials of `new` from `stored` when the auth kind matches.
pub fn keep_stored_credentials(new: EndpointAuth, stored: &EndpointAuth) -> EndpointAuth {
    let blank = |s: &str| s.is_empty() || s == "***";
    match (new, stored) {
        (EndpointAuth::ApiKey { header, value }, EndpointAuth::ApiKey { value: old, .. })
            if blank(&value) =>
        {
            EndpointAuth::ApiKey {
                header,
                value: old.clone(),
            }
        }
        (EndpointAuth::Bearer { token }, EndpointAuth::Bearer { token: old }) if blank(&token) => {
            EndpointAuth::Bearer { token: old.clone() }
        }
        (EndpointAuth::Basic { username, password }, EndpointAuth::Basic { password: old, .. })
            if blank(&password) =>
        {
            EndpointAuth::Basic {
                username,
                password: old.clone(),
            }
        }
        (
            EndpointAuth::Oauth2 {
                token_url,
                client_id,
                client_secret,
                scope,
            },
            EndpointAuth::Oauth2 {
                client_secret: old, ..
            },
        ) if blank(&client_secret) => EndpointAuth::Oauth2 {
            token_url,
            client_id,
            client_secret: old.clone(),
            scope,
        },
        (new, _) => new,
    }
}

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: String,
    config: String,
    disabled_reason: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl EndpointRow {
    /// The stored settings, credentials included: server-side only.
    fn settings(&self) -> AppResult<EndpointInput> {
        serde_json::from_str(&self.config)
            .map_err(|e| AppError::internal("stored endpoint settings are unreadable", e))
    }

    fn into_view(self) -> AppResult<EndpointView> {
        let mut settings = self.settings()?;
        settings.auth = settings.auth.masked();
        Ok(EndpointView {
            id: self.id,
            settings,
            disabled_reason: self.disabled_reason,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        })
    }
}

/// An endpoint with its real credentials, for the delivery engine and the router.
#[derive(Debug, Clone)]
pub struct StoredEndpoint {
    pub id: String,
    pub settings: EndpointInput,
    /// Signing secrets, newest first, with when each stops (a rotated-out one keeps
    /// signing until then). Kept with the catalog: a rotation bumps its version.
    pub secrets: Vec<(String, Option<i64>)>,
}

impl StoredEndpoint {
    /// The secrets that sign a request sent at `now`.
    pub fn signing_secrets(&self, now: i64) -> Vec<String> {
        self.secrets
            .iter()
            .filter(|(_, until)| until.is_none_or(|u| u > now))
            .map(|(s, _)| s.clone())
            .collect()
    }
}

const COLUMNS: &str = "id, config, disabled_reason, created_at, updated_at";

#[derive(Clone, Debug)]
pub struct Endpoints {
    db: Db,
    /// The rendered-body cap a template is checked against on save.
    pub limits: super::limits::Limits,
}

/// Settings as audited: credentials masked.
fn audit_view(settings: &EndpointInput) -> Value {
    let mut masked = settings.clone();
    masked.auth = masked.auth.masked();
    serde_json::to_value(masked).unwrap_or_default()
}

impl Endpoints {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            limits: super::limits::Limits::default(),
        }
    }

    async fn known_event_types(&self) -> AppResult<std::collections::HashSet<String>> {
        let names: Vec<String> = with_db!(&self.db, |pool| sqlx::query_scalar(
            "SELECT name FROM event_types"
        )
        .fetch_all(pool)
        .await)?;
        Ok(names.into_iter().collect())
    }

    async fn checked(&self, mut input: EndpointInput) -> AppResult<EndpointInput> {
        input.name = input.name.trim().to_owned();
        input.url = input.url.trim().to_owned();
        let known = self.known_event_types().await?;
        let mut errors = validate(&input, &|n| known.contains(n));
        if errors.is_empty()
            && let Some(t) = input.template.as_ref().filter(|t| !t.is_null())
        {
            let max = self.limits.max_rendered_bytes;
            errors.extend(
                super::tools::template_over_limit(&self.db, t, &input.event_types, max).await?,
            );
        }
        if errors.is_empty() {
            Ok(input)
        } else {
            Err(AppError::invalid_many(errors))
        }
    }

    pub async fn create(&self, actor: &Actor, input: EndpointInput) -> AppResult<EndpointView> {
        actor.require(Role::Editor)?;
        let settings = self.checked(input).await?;
        let id = super::ids::new_id("ep");
        let now = now_ms();
        let secret = new_secret();
        let config = serde_json::to_string(&settings)
            .map_err(|e| AppError::internal("encoding endpoint", e))?;
        let audit = AuditEntry::new(actor, "create", "endpoint", &id, audit_view(&settings));
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO endpoints (id, name, url, enabled, tenant, config, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(&id)
            .bind(&settings.name)
            .bind(&settings.url)
            .bind(settings.enabled)
            .bind(&settings.tenant)
            .bind(&config)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO endpoint_secrets (endpoint_id, secret, created_at) VALUES ($1, $2, $3)")
                .bind(&id)
                .bind(&secret)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(super::catalog::BUMP_CATALOG)
                .execute(&mut *tx)
                .await?;
            audit_insert!(audit).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        })?;
        let mut settings = settings;
        settings.auth = settings.auth.masked();
        Ok(EndpointView {
            id,
            settings,
            disabled_reason: None,
            created_at: Timestamp(now),
            updated_at: Timestamp(now),
        })
    }

    pub async fn list(
        &self,
        actor: &Actor,
        cursor: Option<&str>,
        limit: u32,
    ) -> AppResult<Page<EndpointView>> {
        actor.require(Role::Viewer)?;
        let limit = limit.clamp(1, 500) as i64;
        let sql = format!(
            "SELECT {COLUMNS} FROM endpoints WHERE deleted_at IS NULL AND ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
        );
        let rows: Vec<EndpointRow> = with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(cursor)
            .bind(limit + 1)
            .fetch_all(pool)
            .await)?;
        let items = rows
            .into_iter()
            .map(EndpointRow::into_view)
            .collect::<AppResult<Vec<_>>>()?;
        Ok(Page::cut(items, limit as usize, |e: &EndpointView| {
            e.id.clone()
        }))
    }

    async fn row(&self, id: &str) -> AppResult<EndpointRow> {
        let sql = format!("SELECT {COLUMNS} FROM endpoints WHERE id = $1 AND deleted_at IS NULL");
        let row: Option<EndpointRow> = with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.ok_or_else(|| AppError::NotFound(format!("endpoint {id}")))
    }

    pub async fn get(&self, actor: &Actor, id: &str) -> AppResult<EndpointView> {
        actor.require(Role::Viewer)?;
        self.row(id).await?.into_view()
    }

    /// One live endpoint (enabled or not) with its credentials: for delivery only.
    pub async fn stored(&self, id: &str) -> AppResult<StoredEndpoint> {
        let row = self.row(id).await?;
        Ok(StoredEndpoint {
            settings: row.settings()?,
            secrets: self.secrets_of(id).await?,
            id: row.id,
        })
    }

    /// Every live endpoint with its credentials: for routing and delivery only.
    pub async fn all_enabled(&self) -> AppResult<Vec<StoredEndpoint>> {
        let sql =
            format!("SELECT {COLUMNS} FROM endpoints WHERE deleted_at IS NULL AND enabled = $1");
        let rows: Vec<EndpointRow> = with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(true)
            .fetch_all(pool)
            .await)?;
        let mut secrets: std::collections::HashMap<String, Vec<(String, Option<i64>)>> =
            std::collections::HashMap::new();
        let all: Vec<(String, String, Option<i64>)> = with_db!(&self.db, |pool| sqlx::query_as(
            "SELECT endpoint_id, secret, expires_at FROM endpoint_secrets \
             WHERE expires_at IS NULL OR expires_at > $1 ORDER BY created_at DESC"
        )
        .bind(now_ms())
        .fetch_all(pool)
        .await)?;
        for (endpoint, secret, until) in all {
            secrets.entry(endpoint).or_default().push((secret, until));
        }
        rows.into_iter()
            .map(|r| {
                Ok(StoredEndpoint {
                    settings: r.settings()?,
                    secrets: secrets.remove(&r.id).unwrap_or_default(),
                    id: r.id,
                })
            })
            .collect()
    }

    /// Merges `patch` (a JSON object of fields to replace; `null` clears an optional one)
    /// onto the current settings and validates the result as a whole.
    pub async fn patch(&self, actor: &Actor, id: &str, patch: Value) -> AppResult<EndpointView> {
        actor.require(Role::Editor)?;
        let Value::Object(patch) = patch else {
            return Err(AppError::invalid(
                "",
                "must be a JSON object of the fields to change",
            ));
        };
        let row = self.row(id).await?;
        let old = row.settings()?;
        let mut merged =
            serde_json::to_value(&old).map_err(|e| AppError::internal("encoding endpoint", e))?;
        if let Value::Object(map) = &mut merged {
            for (k, v) in patch {
                map.insert(k, v);
            }
        }
        let new: EndpointInput = serde_path_to_error::deserialize(merged).map_err(|e| {
            let path = e.path().to_string();
            AppError::invalid(
                if path == "." { String::new() } else { path },
                e.into_inner().to_string(),
            )
        })?;
        let new = self.checked(new).await?;
        let now = now_ms();
        let config =
            serde_json::to_string(&new).map_err(|e| AppError::internal("encoding endpoint", e))?;
        let audit = AuditEntry::new(
            actor,
            "update",
            "endpoint",
            id,
            diff(&audit_view(&old), &audit_view(&new)),
        );
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query(
                "UPDATE endpoints SET name = $1, url = $2, enabled = $3, tenant = $4, config = $5, updated_at = $6, \
                 disabled_reason = CASE WHEN $3 THEN NULL ELSE disabled_reason END \
                 WHERE id = $7 AND deleted_at IS NULL",
            )
            .bind(&new.name)
            .bind(&new.url)
            .bind(new.enabled)
            .bind(&new.tenant)
            .bind(&config)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Err(AppError::NotFound(format!("endpoint {id}")));
            }
            sqlx::query(super::catalog::BUMP_CATALOG)
                .execute(&mut *tx)
                .await?;
            audit_insert!(audit).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        })?;
        self.row(id).await?.into_view()
    }

    /// Replaces all settings (the dashboard's editor). A credential left empty, or sent
    /// back masked, keeps the stored one when the auth kind is unchanged.
    pub async fn replace(
        &self,
        actor: &Actor,
        id: &str,
        mut input: EndpointInput,
    ) -> AppResult<EndpointView> {
        actor.require(Role::Editor)?;
        let stored = self.row(id).await?.settings()?;
        input.auth = keep_stored_credentials(input.auth, &stored.auth);
        let value =
            serde_json::to_value(&input).map_err(|e| AppError::internal("encoding endpoint", e))?;
        self.patch(actor, id, value).await
    }

    /// Deletes the endpoint; its undelivered deliveries become `cancelled`, visibly.
    pub async fn delete(&self, actor: &Actor, id: &str) -> AppResult<()> {
        actor.require(Role::Editor)?;
        let old = self.row(id).await?.settings()?;
        let now = now_ms();
        let audit = AuditEntry::new(actor, "delete", "endpoint", id, audit_view(&old));
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query("UPDATE endpoints SET deleted_at = $1, enabled = $2 WHERE id = $3 AND deleted_at IS NULL")
                .bind(now)
                .bind(false)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 0 {
                return Err(AppError::NotFound(format!("endpoint {id}")));
            }
            sqlx::query(
                "UPDATE deliveries SET status = 'cancelled', last_error = 'endpoint deleted', next_attempt_at = NULL, \
                 updated_at = $1, completed_at = $1 WHERE endpoint_id = $2 AND status IN ('pending', 'failed')",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(super::catalog::BUMP_CATALOG)
                .execute(&mut *tx)
                .await?;
            audit_insert!(audit).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        })
    }

    /// The signing secret(s). Editors and admins only: a secret lets its holder forge events.
    pub async fn secret(&self, actor: &Actor, id: &str) -> AppResult<EndpointSecret> {
        actor.require(Role::Editor)?;
        self.row(id).await?;
        let secrets = self.secrets_of(id).await?;
        let mut it = secrets.into_iter();
        let (secret, _) = it
            .next()
            .ok_or_else(|| AppError::internal("endpoint has no secret", id))?;
        let previous = it.next();
        Ok(EndpointSecret {
            secret,
            previous_expires_at: previous.as_ref().and_then(|p| p.1).map(Timestamp),
            previous_secret: previous.map(|p| p.0),
        })
    }

    /// Secrets that sign right now, newest first, with their expiry (none for the current).
    async fn secrets_of(&self, id: &str) -> AppResult<Vec<(String, Option<i64>)>> {
        let rows: Vec<(String, Option<i64>)> = with_db!(&self.db, |pool| sqlx::query_as(
            "SELECT secret, expires_at FROM endpoint_secrets WHERE endpoint_id = $1 \
             AND (expires_at IS NULL OR expires_at > $2) ORDER BY created_at DESC"
        )
        .bind(id)
        .bind(now_ms())
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// A new secret; the old one keeps signing beside it for 24 hours.
    pub async fn rotate_secret(&self, actor: &Actor, id: &str) -> AppResult<EndpointSecret> {
        actor.require(Role::Editor)?;
        self.row(id).await?;
        let now = now_ms();
        let secret = new_secret();
        let audit = AuditEntry::new(
            actor,
            "rotate",
            "endpoint",
            id,
            serde_json::json!({ "secret": "rotated" }),
        );
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            // Only the latest previous secret overlaps; older ones stop now.
            sqlx::query("UPDATE endpoint_secrets SET expires_at = $1 WHERE endpoint_id = $2 AND expires_at IS NOT NULL AND expires_at > $1")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE endpoint_secrets SET expires_at = $1 WHERE endpoint_id = $2 AND expires_at IS NULL")
                .bind(now + ROTATION_OVERLAP_MS)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO endpoint_secrets (endpoint_id, secret, created_at) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(&secret)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            // The engine signs with the secrets kept in the catalog.
            sqlx::query(super::catalog::BUMP_CATALOG)
                .execute(&mut *tx)
                .await?;
            audit_insert!(audit).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        })?;
        self.secret(actor, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: Value) -> EndpointInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn wildcards_match_whole_segments() {
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(subscribes(&p(&["*"]), "order.created"));
        assert!(subscribes(&p(&["order.*"]), "order.created"));
        assert!(subscribes(&p(&["order.*"]), "order.line.added"));
        assert!(!subscribes(&p(&["order.*"]), "orders.created"));
        assert!(!subscribes(&p(&["order.*"]), "order"));
        assert!(subscribes(
            &p(&["stock.low", "order.created"]),
            "order.created"
        ));
        assert!(!subscribes(&p(&["order.created"]), "order.created.v2"));
    }

    #[test]
    fn settings_are_checked_with_paths() {
        let ok = input(
            json!({"name": "crm", "url": "https://crm.example.com/hooks", "event_types": ["order.*", "stock.low"]}),
        );
        assert_eq!(validate(&ok, &|n| n == "stock.low"), vec![]);
        assert_eq!(ok.timeout, "30s");
        let bad = input(json!({
            "name": "", "url": "ftp://x", "event_types": ["Order", "nope.created"],
            "headers": {"Content-Type": "text/plain", "X-Ok": "a\r\nb"},
            "auth": {"type": "basic", "username": "", "password": "p"},
            "timeout": "10m", "retry_schedule": ["5s", "later"], "rate_limit_per_minute": 0,
            "max_concurrency": 5000, "batch": {"max_events": 0, "max_wait": "2m"}, "ordered": true,
            "tenant": "a b", "filter": {"field": "data.x", "op": "nah"}, "template": {"a": "{{ data..x }}"}
        }));
        let errs = validate(&bad, &|_| false);
        let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
        for p in [
            "name",
            "url",
            "event_types[0]",
            "event_types[1]",
            "filter.op",
            "headers.Content-Type",
            "headers.X-Ok",
            "auth.username",
            "timeout",
            "retry_schedule[1]",
            "rate_limit_per_minute",
            "max_concurrency",
            "batch.max_events",
            "batch.max_wait",
            "batch",
            "tenant",
            "template.a",
        ] {
            assert!(paths.contains(&p), "{p} missing in {paths:?}");
        }
        assert!(check_url("https://user:pw@x.example/").is_err());
        assert!(
            check_url("http://127.0.0.1:8080/hook").is_ok(),
            "private targets are checked at delivery, not here"
        );
    }

    #[test]
    fn secrets_are_whsec_base64_of_32_bytes() {
        let s = new_secret();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(s.strip_prefix(SECRET_PREFIX).unwrap())
            .unwrap();
        assert_eq!(raw.len(), 32);
        assert_ne!(s, new_secret());
    }

    #[test]
    fn blank_credentials_keep_the_stored_ones_of_the_same_kind() {
        let stored = EndpointAuth::Basic {
            username: "u".into(),
            password: "p".into(),
        };
        let kept = keep_stored_credentials(
            EndpointAuth::Basic {
                username: "v".into(),
                password: "".into(),
            },
            &stored,
        );
        assert_eq!(
            kept,
            EndpointAuth::Basic {
                username: "v".into(),
                password: "p".into()
            }
        );
        let changed = keep_stored_credentials(
            EndpointAuth::Basic {
                username: "u".into(),
                password: "new".into(),
            },
            &stored,
        );
        assert_eq!(
            changed,
            EndpointAuth::Basic {
                username: "u".into(),
                password: "new".into()
            }
        );
        let other = keep_stored_credentials(EndpointAuth::Bearer { token: "".into() }, &stored);
        assert_eq!(
            other,
            EndpointAuth::Bearer { token: "".into() },
            "a new kind needs its own credentials"
        );
    }

    #[test]
    fn credentials_are_masked() {
        let auth = EndpointAuth::Oauth2 {
            token_url: "https://id.example/token".into(),
            client_id: "c".into(),
            client_secret: "s3cret".into(),
            scope: None,
        };
        let shown = serde_json::to_string(&auth.masked()).unwrap();
        assert!(
            !shown.contains("s3cret") && shown.contains("client_id"),
            "{shown}"
        );
    }
}
