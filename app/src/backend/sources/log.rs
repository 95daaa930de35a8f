//! The inbound log: one row per request a source got, whatever became of it. A request
//! that became an event is logged in the event's own transaction (the outbox calls
//! [`InboundRow::insert`]), so the log says "accepted" exactly when the event exists; any
//! other verdict is logged on its own. Read back newest first, or one by one for a replay.

use super::Sources;
use crate::backend::Actor;
use crate::error::{AppError, AppResult};
use crate::time_fmt::Timestamp;
use crate::types::ids::{EventId, InboundRequestId, SourceId};
use crate::types::sources::{InboundRequestView, Verdict, Via};
use crate::types::{Page, Role};
use crate::with_db;
use serde_json::Value;

/// A request as it is logged: everything but its verdict.
#[derive(Debug, Clone)]
pub struct InboundRow {
    pub id: InboundRequestId,
    pub source_id: SourceId,
    pub received_at: i64,
    pub remote_addr: String,
    pub query: String,
    /// Header name to value as JSON, secrets masked.
    pub headers: String,
    pub body: Vec<u8>,
    pub dedup_key: Option<String>,
    pub verified: bool,
    pub via: Via,
    pub replay_of: Option<InboundRequestId>,
    /// What an accepted request is answered with (a duplicate gets 200).
    pub accepted_status: u16,
}

/// What became of it.
#[derive(Debug, Clone)]
pub struct RowVerdict {
    pub verdict: Verdict,
    pub status: u16,
    pub reason: Option<String>,
    pub event_id: Option<String>,
}

impl RowVerdict {
    /// Published as `event_id`, or (`duplicate`) answered with the earlier `event_id`.
    pub fn published(accepted_status: u16, event_id: &str, duplicate: bool) -> RowVerdict {
        RowVerdict {
            verdict: if duplicate {
                Verdict::Duplicate
            } else {
                Verdict::Accepted
            },
            status: if duplicate { 200 } else { accepted_status },
            reason: duplicate.then(|| format!("duplicate of {event_id}: not published again")),
            event_id: Some(event_id.to_owned()),
        }
    }
}

const INSERT: &str = "INSERT INTO inbound_requests (id, source_id, received_at, remote_addr, headers, body, \
     verdict, reason, status, event_id, dedup_key, query, verified, via, replay_of) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

impl InboundRow {
    /// Writes the row with its verdict through `ex`: a pool, or the event's transaction.
    /// One function for both databases.
    pub async fn insert<'e, E, DB>(&self, ex: E, v: &RowVerdict) -> Result<(), sqlx::Error>
    where
        DB: sqlx::Database,
        E: sqlx::Executor<'e, Database = DB>,
        for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
        for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> &'q [u8]: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        sqlx::query(INSERT)
            .bind(self.id.as_str())
            .bind(self.source_id.as_str())
            .bind(self.received_at)
            .bind(self.remote_addr.as_str())
            .bind(self.headers.as_str())
            .bind(self.body.as_slice())
            .bind(v.verdict.as_str())
            .bind(v.reason.as_deref())
            .bind(v.status as i64)
            .bind(v.event_id.as_deref())
            .bind(self.dedup_key.as_deref())
            .bind(self.query.as_str())
            .bind(self.verified)
            .bind(self.via.as_str())
            .bind(self.replay_of.as_ref().map(|r| r.as_str()))
            .execute(ex)
            .await?;
        Ok(())
    }
}

type Row = (
    String,
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
    String,
    bool,
    String,
    Option<String>,
);

const COLUMNS: &str = "id, source_id, received_at, remote_addr, headers, body, verdict, reason, status, \
     event_id, dedup_key, query, verified, via, replay_of";

fn view(r: Row) -> AppResult<InboundRequestView> {
    Ok(InboundRequestView {
        id: InboundRequestId::from_db(r.0),
        source_id: SourceId::from_db(r.1),
        received_at: Timestamp(r.2),
        remote_addr: r.3,
        headers: serde_json::from_str(&r.4).unwrap_or(Value::Null),
        body: String::from_utf8_lossy(&r.5).into_owned(),
        verdict: Verdict::parse(&r.6).ok_or_else(|| {
            AppError::internal("an inbound request has an unknown verdict", r.6.clone())
        })?,
        reason: r.7,
        status: r.8 as u16,
        event_id: r.9.map(EventId::from_db),
        dedup_key: r.10,
        query: r.11,
        verified: r.12,
        via: Via::parse(&r.13),
        replay_of: r.14.map(InboundRequestId::from_db),
    })
}

/// A logged request with its body as stored (bytes, not the lossy text of the view).
pub(super) struct Stored {
    pub view: InboundRequestView,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

impl Sources {
    /// Logs a request that did not become an event (or was refused before it could).
    pub(super) async fn log(&self, row: &InboundRow, v: &RowVerdict) -> AppResult<()> {
        let _turn = self.write_gate.enter(&self.db).await?;
        with_db!(&self.db, |pool| row.insert(pool, v).await)?;
        Ok(())
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
        let limit = limit.clamp(1, crate::types::PageLimit::MAX) as i64;
        let sql = format!(
            "SELECT {COLUMNS} FROM inbound_requests WHERE source_id = $1 AND ($2 IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<Row> = with_db!(&self.db, |pool| {
            sqlx::query_as(&sql)
                .bind(id.as_str())
                .bind(cursor)
                .bind(limit + 1)
                .fetch_all(pool)
                .await
        })?;
        let items = rows.into_iter().map(view).collect::<AppResult<Vec<_>>>()?;
        Ok(Page::cut(items, limit as usize, |r| r.id.to_string()))
    }

    /// Requests logged at or after `since` (ms), oldest first: the live log.
    pub async fn requests_since(
        &self,
        actor: &Actor,
        id: &SourceId,
        since: i64,
        limit: u32,
    ) -> AppResult<Vec<InboundRequestView>> {
        actor.require(Role::Viewer)?;
        self.row(id.as_str()).await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM inbound_requests WHERE source_id = $1 AND received_at >= $2 \
             ORDER BY received_at, id LIMIT $3"
        );
        let rows: Vec<Row> = with_db!(&self.db, |pool| {
            sqlx::query_as(&sql)
                .bind(id.as_str())
                .bind(since)
                .bind(limit.clamp(1, crate::types::PageLimit::MAX) as i64)
                .fetch_all(pool)
                .await
        })?;
        rows.into_iter().map(view).collect()
    }

    /// One logged request of source `id`: a 404 if it is another source's.
    pub async fn request(
        &self,
        actor: &Actor,
        id: &SourceId,
        request: &InboundRequestId,
    ) -> AppResult<InboundRequestView> {
        actor.require(Role::Viewer)?;
        Ok(self.stored_request(id, request).await?.view)
    }

    pub(super) async fn stored_request(
        &self,
        id: &SourceId,
        request: &InboundRequestId,
    ) -> AppResult<Stored> {
        // A deleted source's log is kept for retention, but no longer answers by its path.
        self.row(id.as_str()).await?;
        let sql =
            format!("SELECT {COLUMNS} FROM inbound_requests WHERE id = $1 AND source_id = $2");
        let row: Option<Row> = with_db!(&self.db, |pool| {
            sqlx::query_as(&sql)
                .bind(request.as_str())
                .bind(id.as_str())
                .fetch_optional(pool)
                .await
        })?;
        let row = row.ok_or_else(|| {
            AppError::NotFound(format!("inbound request {request} of source {id}"))
        })?;
        let body = row.5.clone();
        let headers: Vec<(String, String)> =
            serde_json::from_str::<serde_json::Map<String, Value>>(&row.4)
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned()))
                .collect();
        Ok(Stored {
            view: view(row)?,
            body,
            headers,
        })
    }
}
