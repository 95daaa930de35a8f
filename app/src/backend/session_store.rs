//! tower-sessions store in the application's own database, so sessions survive restarts
//! and are shared by every node on Postgres. Session ids are stored as SHA-256 digests: a
//! copy of the database does not hand out live sessions.

use super::{Db, now_ms};
use crate::with_db;
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result, SessionStore};

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
}

fn key(id: &Id) -> String {
    let digest = Sha256::digest(id.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn backend(e: sqlx::Error) -> Error {
    Error::Backend(e.to_string())
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Removes expired sessions; run periodically in the background.
    pub async fn delete_expired(&self) -> std::result::Result<u64, sqlx::Error> {
        let done = with_db!(&self.db, |pool| sqlx::query(
            "DELETE FROM sessions WHERE expires_at <= $1"
        )
        .bind(now_ms())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done)
    }

    /// Writes `record`; `on_conflict` decides between insert-only and upsert. Returns
    /// whether a row was written.
    async fn write(&self, record: &Record, on_conflict: &str) -> Result<bool> {
        let data = serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
        let expires = (record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64;
        let sql = format!(
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) {on_conflict}"
        );
        let written = with_db!(&self.db, |pool| sqlx::query(&sql)
            .bind(key(&record.id))
            .bind(&data)
            .bind(expires)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map_err(backend)?;
        Ok(written == 1)
    }
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        while !self.write(record, "DO NOTHING").await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.write(
            record,
            "DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
        )
        .await
        .map(|_| ())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let row: Option<(String, i64)> = with_db!(&self.db, |pool| sqlx::query_as(
            "SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2"
        )
        .bind(key(id))
        .bind(now_ms())
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
