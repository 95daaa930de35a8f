//! A connection for a claim whose commit need not wait for the disk. A claim only says who
//! is sending a delivery: if the database loses it (a crash or a power cut before it
//! reached the disk), the delivery is simply still due and is claimed and sent again,
//! which at-least-once delivery allows (the same happens when a node crashes after
//! sending). The log is written in order, so no later durable commit (an attempt's
//! outcome) can survive without the claim before it. Events, deliveries and outcomes keep
//! durable commits.
//!
//! Each database does it its own way behind [`Unsynced`]: Postgres in the claim's own
//! transaction (`SET LOCAL synchronous_commit = off`), SQLite on the claiming connection.

/// A pool that hands out connections for unsynced claims: run the claim on
/// `conn()`, then `done(claimed)` (`claimed`: the claim succeeded and is to be kept).
pub(super) trait Unsynced {
    type Guard;
    async fn unsynced(&self) -> Result<Self::Guard, sqlx::Error>;
}

/// Postgres: a transaction whose commit does not wait for the disk.
pub(super) struct PgUnsynced(sqlx::Transaction<'static, sqlx::Postgres>);

impl Unsynced for sqlx::PgPool {
    type Guard = PgUnsynced;
    async fn unsynced(&self) -> Result<PgUnsynced, sqlx::Error> {
        let mut tx = self.begin().await?;
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await?;
        Ok(PgUnsynced(tx))
    }
}

impl PgUnsynced {
    pub(super) fn conn(&mut self) -> &mut sqlx::PgConnection {
        &mut self.0
    }

    pub(super) async fn done(self, claimed: bool) -> Result<(), sqlx::Error> {
        if claimed {
            self.0.commit().await
        } else {
            self.0.rollback().await
        }
    }
}

/// SQLite: `synchronous` is a setting of the connection, so the claiming connection commits
/// without syncing the write-ahead log (the next synced commit syncs the log with
/// everything before it), and is put back to syncing every commit before anyone else uses
/// it. A connection whose setting was not put back (an error, or the claim cancelled
/// midway) is closed, never returned to the pool.
pub(super) struct SqliteUnsynced {
    conn: Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>,
    /// The setting to put back (`PRAGMA synchronous`), if it was lowered.
    lowered_from: Option<i64>,
}

impl Unsynced for sqlx::SqlitePool {
    type Guard = SqliteUnsynced;
    async fn unsynced(&self) -> Result<SqliteUnsynced, sqlx::Error> {
        let mut conn = self.acquire().await?;
        let mode: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await?;
        let mut this = SqliteUnsynced {
            conn: Some(conn),
            lowered_from: None,
        };
        if mode >= 2 {
            this.lowered_from = Some(mode);
            sqlx::query("PRAGMA synchronous = NORMAL")
                .execute(this.conn())
                .await?;
        }
        Ok(this)
    }
}

impl SqliteUnsynced {
    pub(super) fn conn(&mut self) -> &mut sqlx::SqliteConnection {
        self.conn
            .as_deref_mut()
            .expect("held until put back or dropped")
    }

    /// Puts the setting back, whether or not the claim succeeded (a failed statement left
    /// nothing to undo: it ran in its own implicit transaction).
    pub(super) async fn done(mut self, _claimed: bool) -> Result<(), sqlx::Error> {
        if let Some(mode) = self.lowered_from {
            sqlx::query(&format!("PRAGMA synchronous = {mode}"))
                .execute(self.conn())
                .await?;
            self.lowered_from = None;
        }
        Ok(())
    }
}

impl Drop for SqliteUnsynced {
    fn drop(&mut self) {
        if self.lowered_from.is_some()
            && let Some(conn) = self.conn.take()
        {
            // Closed when dropped, outside the pool.
            drop(conn.detach());
        }
    }
}
