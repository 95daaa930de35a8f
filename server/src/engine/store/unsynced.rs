//! A connection for a claim whose commit need not wait for the disk: a claim only says who
//! is sending a delivery, and a claim lost to a power cut leaves the delivery due again,
//! which at-least-once delivery allows (see `claims::claim_commit`).

/// SQLite's counterpart of `SET LOCAL synchronous_commit = off`: `synchronous` is a setting
/// of the connection, so the claiming connection commits without syncing the write-ahead
/// log (the next synced commit, such as the attempt's outcome, syncs the log with
/// everything before it, and a power loss before that loses only the claim), and is put
/// back to syncing every commit before anyone else uses it. A connection whose setting was
/// not put back (an error, or the claim cancelled midway) is closed, never returned to the
/// pool.
pub(super) struct SyncRestored<DB: sqlx::Database> {
    conn: Option<sqlx::pool::PoolConnection<DB>>,
    /// The setting to put back (`PRAGMA synchronous`), if it was lowered.
    lowered_from: Option<i64>,
}

impl<DB: sqlx::Database> SyncRestored<DB> {
    pub(super) fn get(&mut self) -> &mut DB::Connection {
        self.conn
            .as_deref_mut()
            .expect("held until restored or dropped")
    }
}

/// A connection for a claim whose commit need not wait for the disk.
pub(super) trait Unsynced {
    type Db: sqlx::Database;
    async fn unsynced(&self) -> Result<SyncRestored<Self::Db>, sqlx::Error>;
}

impl Unsynced for sqlx::SqlitePool {
    type Db = sqlx::Sqlite;
    async fn unsynced(&self) -> Result<SyncRestored<sqlx::Sqlite>, sqlx::Error> {
        let mut conn = self.acquire().await?;
        let mode: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await?;
        let mut this = SyncRestored {
            conn: Some(conn),
            lowered_from: None,
        };
        if mode >= 2 {
            this.lowered_from = Some(mode);
            sqlx::query("PRAGMA synchronous = NORMAL")
                .execute(this.get())
                .await?;
        }
        Ok(this)
    }
}

impl SyncRestored<sqlx::Sqlite> {
    pub(super) async fn restore(mut self) -> Result<(), sqlx::Error> {
        if let Some(mode) = self.lowered_from {
            sqlx::query(&format!("PRAGMA synchronous = {mode}"))
                .execute(self.get())
                .await?;
            self.lowered_from = None;
        }
        Ok(())
    }
}

/// Postgres lowers it inside the claim's transaction instead (`SET LOCAL`); this
/// only lets the macro's SQLite branch compile for both pools.
impl Unsynced for sqlx::PgPool {
    type Db = sqlx::Postgres;
    async fn unsynced(&self) -> Result<SyncRestored<sqlx::Postgres>, sqlx::Error> {
        Ok(SyncRestored {
            conn: Some(self.acquire().await?),
            lowered_from: None,
        })
    }
}

impl SyncRestored<sqlx::Postgres> {
    pub(super) async fn restore(self) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

impl<DB: sqlx::Database> Drop for SyncRestored<DB> {
    fn drop(&mut self) {
        if self.lowered_from.is_some()
            && let Some(conn) = self.conn.take()
        {
            // Closed when dropped, outside the pool.
            drop(conn.detach());
        }
    }
}
