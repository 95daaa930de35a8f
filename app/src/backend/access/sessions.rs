//! tower-sessions store in the application's own database, so sessions survive restarts
//! and are shared by every node on Postgres. Session ids are stored as SHA-256 digests: a
//! copy of the database does not hand out live sessions.
//!
//! A session ends at its idle expiry, at its absolute lifetime (counted from sign-in,
//! however active it is), or at sign-out. tower-sessions writes a session back at the end
//! of every request; that write only updates a session that is still live, so a request
//! that was in flight when the session ended cannot bring it back.

use crate::backend::{Db, now_ms};
use crate::with_db;
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result, SessionStore};

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
    max_lifetime_ms: i64,
}

fn key(id: &Id) -> String {
    let digest = Sha256::digest(id.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn backend(e: sqlx::Error) -> Error {
    Error::Backend(e.to_string())
}

fn expires_ms(record: &Record) -> i64 {
    (record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64
}

fn encode(record: &Record) -> Result<String> {
    serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))
}

impl DbSessionStore {
    /// `max_lifetime`: how long a session may last from its start, whatever its activity.
    pub fn new(db: Db, max_lifetime: Duration) -> Self {
        Self {
            db,
            max_lifetime_ms: max_lifetime.as_millis().min(i64::MAX as u128) as i64,
        }
    }

    /// Sessions that began before this instant are past their lifetime.
    fn born_after(&self, now: i64) -> i64 {
        now.saturating_sub(self.max_lifetime_ms)
    }

    /// Removes expired sessions; run periodically in the background.
    pub async fn delete_expired(&self) -> std::result::Result<u64, sqlx::Error> {
        let now = now_ms();
        let done = with_db!(&self.db, |pool| sqlx::query(
            "DELETE FROM sessions WHERE expires_at <= $1 OR created_at <= $2"
        )
        .bind(now)
        .bind(self.born_after(now))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done)
    }
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        let data = encode(record)?;
        loop {
            let written = with_db!(&self.db, |pool| {
                sqlx::query(
                "INSERT INTO sessions (id, data, expires_at, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO NOTHING"
            )
            .bind(key(&record.id))
            .bind(&data)
            .bind(expires_ms(record))
            .bind(now_ms())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            })
            .map_err(backend)?;
            if written == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    /// Updates a live session only: one signed out, expired or past its lifetime while
    /// this request ran stays ended.
    async fn save(&self, record: &Record) -> Result<()> {
        let now = now_ms();
        let data = encode(record)?;
        let updated = with_db!(&self.db, |pool| sqlx::query(
            "UPDATE sessions SET data = $2, expires_at = $3 \
             WHERE id = $1 AND expires_at > $4 AND created_at > $5"
        )
        .bind(key(&record.id))
        .bind(&data)
        .bind(expires_ms(record))
        .bind(now)
        .bind(self.born_after(now))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
        .map_err(backend)?;
        if updated == 0 {
            tracing::debug!("the session ended while a request was in flight; not written back");
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let now = now_ms();
        let row: Option<(String, i64)> = with_db!(&self.db, |pool| sqlx::query_as(
            "SELECT data, expires_at FROM sessions \
             WHERE id = $1 AND expires_at > $2 AND created_at > $3"
        )
        .bind(key(id))
        .bind(now)
        .bind(self.born_after(now))
        .fetch_optional(pool)
        .await)
        .map_err(backend)?;
        let Some((data, expires_at)) = row else {
            return Ok(None);
        };
        let data = serde_json::from_str(&data).map_err(|e| Error::Decode(e.to_string()))?;
        let expiry_date =
            time::OffsetDateTime::from_unix_timestamp_nanos(expires_at as i128 * 1_000_000)
                .map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        with_db!(&self.db, |pool| sqlx::query(
            "DELETE FROM sessions WHERE id = $1"
        )
        .bind(key(id))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
        .map_err(backend)?;
        Ok(())
    }
}
