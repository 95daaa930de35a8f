//! The change counters that guard the in-memory caches: `catalog_version.version` (event
//! types, endpoints, signing secrets) and `catalog_version.keys_version` (API key
//! revocations). Each is bumped in the same transaction as the change it announces.
//!
//! Reading them is coalesced without going stale: a request waits for a read that *began
//! after it arrived*, so it sees every change committed before it arrived, yet one read
//! serves every request that arrived while the previous read was running. Under load that
//! is one small query per round instead of one per request.

use super::Db;
use crate::error::AppResult;
use crate::with_db;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub catalog: i64,
    pub keys: i64,
}

pub struct Versions {
    db: Db,
    /// Reads begun so far.
    started: AtomicU64,
    /// The latest read: the number it had when it began, and what it found. A failed read
    /// is kept too, so requests that waited for it share its answer (a 503 while the
    /// database is locked) instead of each trying again in turn behind the lock.
    last: tokio::sync::Mutex<Option<(u64, AppResult<Stamp>, std::time::Instant)>>,
}

/// A failed read is shared with requests that were already waiting when it began, for this
/// long after it ended: they would otherwise each wait out the database in turn (one read
/// waiting for a free connection takes up to its timeout), doubling their time to a 503.
const SHARE_FAILURE: std::time::Duration = std::time::Duration::from_millis(500);

/// Run in the same transaction as any change to event types or endpoints.
pub const BUMP_CATALOG: &str = "UPDATE catalog_version SET version = version + 1 WHERE id = 1";

/// The end of every change to event types, endpoints or signing secrets: bumps the catalog
/// version (so every node reloads), records the change's audit entry, and commits, all in
/// `tx`. One function for both databases.
pub async fn commit_change<DB>(
    mut tx: sqlx::Transaction<'_, DB>,
    audit: &super::audit::AuditEntry,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(BUMP_CATALOG).execute(&mut *tx).await?;
    audit.insert_in(&mut tx).await?;
    tx.commit().await
}

/// Run in the same transaction as an API key revocation.
pub const BUMP_KEYS: &str =
    "UPDATE catalog_version SET keys_version = keys_version + 1 WHERE id = 1";

impl Versions {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            started: AtomicU64::new(0),
            last: tokio::sync::Mutex::new(None),
        }
    }

    /// A ticket for this moment: [`Versions::since`] with it answers with counters read
    /// after it was taken.
    pub fn ticket(&self) -> u64 {
        self.started.load(Ordering::SeqCst)
    }

    /// The counters as they stand now (at or after the moment of the call).
    pub async fn current(&self) -> AppResult<Stamp> {
        self.since(self.ticket()).await
    }

    /// The counters as read at some moment after `ticket` was taken.
    pub async fn since(&self, arrived: u64) -> AppResult<Stamp> {
        let mut last = self.last.lock().await;
        if let Some((began, result, ended)) = &*last
            && (*began > arrived || (result.is_err() && ended.elapsed() < SHARE_FAILURE))
        {
            return result.clone();
        }
        let began = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        let read: AppResult<(i64, i64)> = with_db!(&self.db, |pool| sqlx::query_as(
            "SELECT version, keys_version FROM catalog_version WHERE id = 1"
        )
        .fetch_one(pool)
        .await
        .map_err(crate::error::AppError::from));
        let result = read.map(|(catalog, keys)| Stamp { catalog, keys });
        *last = Some((began, result.clone(), std::time::Instant::now()));
        result
    }
}
