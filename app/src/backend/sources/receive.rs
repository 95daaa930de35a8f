//! One inbound request, from the partner's POST to its answer: the source and its rate
//! limit (before the body is read), the address allowlist, verification, mapping, the
//! duplicate check and the publish, in that order. The event takes the normal path
//! (schema, routing, the one-transaction outbox) with the source as its publisher, and
//! the answer comes only after it is committed. Every request is written to the inbound
//! log with its verdict and reason, whatever the verdict (an accepted one in the event's
//! own transaction); a refused or invalid one is never published.

use super::Sources;
use super::log::{InboundRow, RowVerdict};
use super::mapping::{Unmapped, map};
use super::verify::{Inbound, verify};
use crate::backend::cidr::Cidr;
use crate::backend::endpoints::template;
use crate::backend::events::{Events, KeyFrom};
use crate::backend::{Actor, now_ms};
use crate::error::{AppError, AppResult};
use crate::types::endpoints::{MASK, header_name_looks_secret};
use crate::types::events::PublishEvent;
use crate::types::ids::{InboundRequestId, SourceId};
use crate::types::sources::{DEFAULT_DEDUP_WINDOW_SECS, SourceInput, Verdict, Verification, Via};
use serde_json::{Value, json};
use std::net::IpAddr;

/// A request as the HTTP layer received it (header names in lower case), or as the
/// dashboard made it (a signed sample, a replay).
pub struct Received<'a> {
    pub remote: IpAddr,
    pub headers: Vec<(String, String)>,
    pub query: &'a str,
    pub body: &'a [u8],
    pub via: Via,
    pub replay_of: Option<InboundRequestId>,
}

impl<'a> Received<'a> {
    /// Posted to the source's URL.
    pub fn http(
        remote: IpAddr,
        headers: Vec<(String, String)>,
        query: &'a str,
        body: &'a [u8],
    ) -> Self {
        Received {
            remote,
            headers,
            query,
            body,
            via: Via::Http,
            replay_of: None,
        }
    }
}

/// What to answer the partner.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    /// `Retry-After`, for a 429.
    pub retry_after: Option<u64>,
    /// The log entry it was written to.
    pub logged_as: InboundRequestId,
}

/// Whether the body may be read.
pub enum Admission {
    Read(Box<Admitted>),
    /// Refused before the body is read (logged without it).
    Refused(Reply),
}

/// A request's source, read once when it was admitted: its body may be read up to
/// [`Admitted::limit`] bytes.
pub struct Admitted {
    id: SourceId,
    row: super::SourceRow,
    stored: SourceInput,
    limit: usize,
}

impl Admitted {
    pub fn limit(&self) -> usize {
        self.limit
    }
}

/// The outcome of the checks: its verdict, and whether the outbox already logged it.
struct Judged {
    verdict: RowVerdict,
    body: Value,
    retry_after: Option<u64>,
    verified: bool,
    dedup_key: Option<String>,
    written: bool,
}

impl Judged {
    fn not_published(verdict: Verdict, status: u16, reason: String) -> Judged {
        Judged {
            body: json!({"error": reason}),
            verdict: RowVerdict {
                verdict,
                status,
                reason: Some(reason),
                event_id: None,
            },
            retry_after: None,
            verified: false,
            dedup_key: None,
            written: false,
        }
    }

    fn refused(status: u16, reason: String) -> Judged {
        Self::not_published(Verdict::Refused, status, reason)
    }

    /// Verified, but not an event.
    fn invalid(status: u16, reason: String, dedup_key: Option<String>) -> Judged {
        Judged {
            verified: true,
            dedup_key,
            ..Self::not_published(Verdict::Invalid, status, reason)
        }
    }
}

/// Headers as kept in the log: credentials and signatures shown as `***` (by their names,
/// and whatever the source's scheme reads them from).
fn masked_headers(s: &SourceInput, headers: &[(String, String)]) -> String {
    let credentials = s.verification.credential_headers();
    let map: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| {
            let secret = header_name_looks_secret(k) || credentials.contains(k);
            let shown = if secret { MASK.to_owned() } else { v.clone() };
            (k.clone(), Value::String(shown))
        })
        .collect();
    Value::Object(map).to_string()
}

/// The query string as kept in the log: the API key parameter, and any whose name looks
/// secret (`token`, `key`, `signature`, …), shown as `***`; the rest exactly as received.
fn masked_query(s: &SourceInput, query: &str) -> String {
    let key_param = match &s.verification {
        Verification::ApiKey { query: Some(q), .. } => Some(q.as_str()),
        _ => None,
    };
    query
        .split('&')
        .map(|pair| {
            let (raw_name, _) = pair.split_once('=').unwrap_or((pair, ""));
            let name: String = url::form_urlencoded::parse(raw_name.as_bytes())
                .map(|(k, _)| k.into_owned())
                .next()
                .unwrap_or_default();
            if key_param == Some(name.as_str()) || header_name_looks_secret(&name) {
                format!("{raw_name}={MASK}")
            } else {
                pair.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The status an accepted request is answered with.
fn accepted_status(s: &SourceInput) -> u16 {
    s.response.as_ref().map_or(202, |r| r.status)
}

impl Sources {
    /// The client's address (see [`super::client_address`]).
    fn client(&self, req: &Received<'_>) -> IpAddr {
        let forwarded = req
            .headers
            .iter()
            .find(|(k, _)| k == "x-forwarded-for")
            .map(|(_, v)| v.as_str());
        super::client_address(req.remote, forwarded, &self.trusted_proxies)
    }

    /// The log row for `req`, its verdict still to come.
    fn row_for(
        &self,
        id: &SourceId,
        source: &SourceInput,
        req: &Received<'_>,
        verified: bool,
        dedup_key: Option<String>,
    ) -> InboundRow {
        InboundRow {
            id: InboundRequestId::generate(),
            source_id: id.clone(),
            received_at: now_ms(),
            remote_addr: req.remote.to_string(),
            query: masked_query(source, req.query),
            headers: masked_headers(source, &req.headers),
            body: req.body.to_vec(),
            dedup_key,
            verified,
            via: req.via,
            replay_of: req.replay_of.clone(),
            accepted_status: accepted_status(source),
        }
    }

    /// Logs a request refused before its body was read, and answers it.
    async fn refuse_unread(
        &self,
        id: &SourceId,
        source: &SourceInput,
        req: &Received<'_>,
        judged: Judged,
    ) -> AppResult<Reply> {
        let row = self.row_for(id, source, req, false, None);
        self.log(&row, &judged.verdict).await?;
        Ok(Reply {
            status: judged.verdict.status,
            body: judged.body,
            retry_after: judged.retry_after,
            logged_as: row.id,
        })
    }

    /// Before the body is read: source `id` exists (404 otherwise) and is within its rate
    /// limit (429, logged without the body, otherwise); then its body limit. Its settings
    /// are read as stored; no secret is opened.
    pub async fn admit(&self, id: &str, mut req: Received<'_>) -> AppResult<Admission> {
        let id = SourceId::parse(id)?;
        let row = self.row(id.as_str()).await?;
        let stored = super::sealed(&row.id, &row.config)?;
        if let Some(rate) = stored.rate_limit_per_second
            && let Err(retry) = self
                .rates
                .take(id.as_str(), rate, std::time::Instant::now())
        {
            req.remote = self.client(&req);
            let mut judged = Judged::refused(
                429,
                format!("over the source's rate limit of {rate} requests per second"),
            );
            judged.retry_after = Some(retry);
            let reply = self.refuse_unread(&id, &stored, &req, judged).await?;
            return Ok(Admission::Refused(reply));
        }
        let limit = stored
            .max_body_bytes
            .map_or(self.default_body_limit, |n| n as usize);
        Ok(Admission::Read(Box::new(Admitted {
            id,
            row,
            stored,
            limit,
        })))
    }

    /// Logs a request whose body passed the source's limit (the body is not kept) and
    /// answers 413.
    pub async fn refuse_oversized(
        &self,
        admitted: Box<Admitted>,
        mut req: Received<'_>,
    ) -> AppResult<Reply> {
        req.remote = self.client(&req);
        let reason = format!("body over the source's limit of {} bytes", admitted.limit);
        let judged = Judged::not_published(Verdict::Invalid, 413, reason);
        self.refuse_unread(&admitted.id, &admitted.stored, &req, judged)
            .await
    }

    /// Handles one request posted to an admitted source and answers what to send back.
    pub async fn receive(
        &self,
        events: &Events,
        admitted: Box<Admitted>,
        mut req: Received<'_>,
    ) -> AppResult<Reply> {
        req.remote = self.client(&req);
        let source = self.open(&admitted.row.id, &admitted.row.config)?;
        self.handle(events, &admitted.id, &source, req).await
    }

    /// Judges, publishes and logs a request to an opened source.
    pub(super) async fn handle(
        &self,
        events: &Events,
        id: &SourceId,
        source: &SourceInput,
        req: Received<'_>,
    ) -> AppResult<Reply> {
        let (judged, logged_as) = self.judge(events, id, source, &req).await?;
        let logged_as = match logged_as {
            Some(row) if judged.written => row,
            _ => {
                let row = self.row_for(id, source, &req, judged.verified, judged.dedup_key.clone());
                self.log(&row, &judged.verdict).await?;
                row.id
            }
        };
        Ok(Reply {
            status: judged.verdict.status,
            body: judged.body,
            retry_after: judged.retry_after,
            logged_as,
        })
    }

    async fn judge(
        &self,
        events: &Events,
        id: &SourceId,
        source: &SourceInput,
        req: &Received<'_>,
    ) -> AppResult<(Judged, Option<InboundRequestId>)> {
        if !source.enabled {
            return Ok((Judged::refused(403, "the source is disabled".into()), None));
        }
        // A sample is made here and a replay passed these checks when it came in.
        let checked = req.via == Via::Http;
        if checked
            && !source.allowed_ips.is_empty()
            && !source
                .allowed_ips
                .iter()
                .filter_map(|c| Cidr::parse(c).ok())
                .any(|c| c.contains(req.remote))
        {
            let why = format!("address {} not allowed", req.remote);
            return Ok((Judged::refused(403, why), None));
        }
        let inbound = Inbound {
            headers: &req.headers,
            query: req.query,
            body: req.body,
            now: now_ms() / 1000,
        };
        if req.via != Via::Replay
            && let Err(refusal) = verify(&source.verification, &inbound)
        {
            return Ok((Judged::refused(401, refusal.0), None));
        }
        let mapped = match map(
            source,
            id.as_str(),
            &inbound,
            events.limits.max_rendered_bytes,
        ) {
            Ok(m) => m,
            Err(Unmapped::Challenge(challenge)) => {
                let mut j = Judged::not_published(
                    Verdict::Accepted,
                    200,
                    "Slack url_verification challenge answered".into(),
                );
                j.body = json!({ "challenge": challenge });
                j.verified = true;
                return Ok((j, None));
            }
            Err(Unmapped::Invalid(why, key)) => return Ok((Judged::invalid(422, why, key), None)),
        };
        let input = PublishEvent {
            event_type: mapped.event_type,
            data: mapped.data,
            tenant: source.tenant.clone(),
            context: Some(mapped.context),
            idempotency_key: None,
        };
        let window_secs = source
            .dedup
            .as_ref()
            .and_then(|d| d.window_secs)
            .unwrap_or(DEFAULT_DEDUP_WINDOW_SECS);
        let key = mapped.dedup_key.as_deref().map(|k| KeyFrom {
            key: k,
            window_ms: window_secs as i64 * 1000,
        });
        let row = self.row_for(id, source, req, true, mapped.dedup_key.clone());
        let row_id = row.id.clone();
        let actor = Actor::source(id.as_str(), &source.name);
        let key_text = mapped.dedup_key.clone();
        match events.publish_inbound(&actor, input, key, row).await {
            Ok(outcome) => {
                let event_id = outcome.published.id.to_string();
                let answer = json!({ "event_id": event_id, "duplicate": outcome.replayed });
                let body = match source.response.as_ref().and_then(|r| r.body.as_ref()) {
                    // Checked when saved; a field it lacks leaves the default answer.
                    Some(t) => {
                        template::render(t, &answer, "response.body", 64 * 1024).unwrap_or(answer)
                    }
                    None => answer,
                };
                let judged = Judged {
                    verdict: RowVerdict::published(
                        accepted_status(source),
                        &event_id,
                        outcome.replayed,
                    ),
                    body,
                    retry_after: None,
                    verified: true,
                    dedup_key: key_text,
                    written: true,
                };
                Ok((judged, Some(row_id)))
            }
            Err(AppError::Validation { message, .. }) => {
                Ok((Judged::invalid(422, message, key_text), None))
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_logged_query_hides_the_key_and_secret_looking_parameters() {
        let s: SourceInput = serde_json::from_value(serde_json::json!({
            "name": "n", "event_type": "a.b",
            "verification": {"type": "api_key", "query": "k", "key": "x"}}))
        .unwrap();
        assert_eq!(
            masked_query(&s, "shop=north&k=s3cr%21&access_token=t&q=a%20b"),
            "shop=north&k=***&access_token=***&q=a%20b"
        );
        assert_eq!(masked_query(&s, ""), "");
    }
}
