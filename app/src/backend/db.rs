//! The store: SQLite (embedded default) or Postgres (scale-out), chosen by the URL.
//!
//! Both dialects share one SQL text wherever possible (`$1` placeholders work on both);
//! `with_db!` runs a block against whichever concrete pool is configured, so queries keep
//! the native drivers' speed and types. Timestamps are BIGINT Unix milliseconds, ids TEXT.

use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the concrete pool. The body is compiled once per
/// backend, so it must be valid for both `SqlitePool` and `PgPool`.
///
/// The body is inlined into a `match`: a `?` or `return` in it leaves the *enclosing
/// function*. To inspect a database error (say, a unique violation) write the body as
/// `async { … }.await` so that `?` stops at the block.
#[macro_export]
macro_rules! with_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::backend::db::Db::Sqlite($pool) => $body,
            $crate::backend::db::Db::Postgres($pool) => $body,
        }
    };
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database URL must start with sqlite:// or postgres://, got '{0}'")]
    BadUrl(String),
    #[error("cannot open the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot create the database directory {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Setting(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// How long a statement waits for a lock another connection (or process) holds, and for a
/// free connection, before it gives up. A request that meets a locked or unreachable
/// database then answers 503 with Retry-After within about 2 s instead of hanging (twice
/// that at most when it first queued behind another writer of this process, see
/// [`super::write_gate`]); the locks Hookline itself takes are held for milliseconds, far
/// below this.
pub const LOCK_WAIT: Duration = Duration::from_millis(1500);
pub const ACQUIRE_WAIT: Duration = Duration::from_secs(2);

/// SQLite allows one writer at a time; extra connections only help concurrent reads.
/// `HOOKLINE_SQLITE_CONNECTIONS` overrides the pool size (1..=64).
fn sqlite_connections() -> u32 {
    std::env::var("HOOKLINE_SQLITE_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| (1..=64).contains(n))
        .unwrap_or(8)
}

/// How SQLite commits. `FULL` (the default) syncs the write-ahead log at every commit, so an
/// event answered 202 survives a power loss; `HOOKLINE_SQLITE_SYNCHRONOUS=normal` syncs only
/// at checkpoints: a crash of the process still loses nothing, but a power loss or an OS
/// crash may lose the last commits. That trades durability for speed, so it is opt-in.
fn sqlite_synchronous() -> Result<SqliteSynchronous, DbError> {
    match std::env::var("HOOKLINE_SQLITE_SYNCHRONOUS")
        .unwrap_or_default()
        .to_ascii_lowercase()
        .as_str()
    {
        "" | "full" => Ok(SqliteSynchronous::Full),
        "normal" => Ok(SqliteSynchronous::Normal),
        other => Err(DbError::Setting(format!(
            "HOOKLINE_SQLITE_SYNCHRONOUS must be full or normal, not {other:?}"
        ))),
    }
}

pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl Db {
    /// Opens the database named by `url`, creating it (and, for SQLite, its directory)
    /// when missing. Does not migrate: call [`Db::migrate`].
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        if is_postgres_url(url) {
            let lock_timeout = format!("{}ms", LOCK_WAIT.as_millis());
            // No JIT: every statement here is short, and the claim's FIFO test makes its
            // estimated cost pass `jit_above_cost`, so with statistics each claim compiled
            // for about 0.5 s (EXPLAIN's "JIT: … Total 491 ms" against 0.5 ms without).
            let options = PgConnectOptions::from_str(url)
                .map_err(DbError::Connect)?
                .options([("lock_timeout", lock_timeout.as_str()), ("jit", "off")]);
            if !sqlx::Postgres::database_exists(url)
                .await
                .map_err(DbError::Connect)?
            {
                sqlx::Postgres::create_database(url)
                    .await
                    .map_err(DbError::Connect)?;
            }
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(ACQUIRE_WAIT)
                .connect_with(options)
                .await
                .map_err(DbError::Connect)?;
            Ok(Db::Postgres(pool))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            let file = path.split('?').next().unwrap_or(path);
            if let Some(dir) = std::path::Path::new(file).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(|source| DbError::Dir {
                    path: dir.display().to_string(),
                    source,
                })?;
            }
            let options = SqliteConnectOptions::from_str(url)
                .map_err(DbError::Connect)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(sqlite_synchronous()?)
                .foreign_keys(true)
                .busy_timeout(LOCK_WAIT);
            let pool = SqlitePoolOptions::new()
                .max_connections(sqlite_connections())
                .acquire_timeout(ACQUIRE_WAIT)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        let mut handle = conn.lock_handle().await?;
                        short_busy_waits(handle.as_raw_handle().as_ptr());
                        Ok(())
                    })
                })
                .connect_with(options)
                .await
                .map_err(DbError::Connect)?;
            Ok(Db::Sqlite(pool))
        } else {
            Err(DbError::BadUrl(url.to_string()))
        }
    }

    /// Applies every pending migration of this backend's dialect.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Db::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        with_db!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(|_| ()))
    }

    pub async fn close(&self) {
        with_db!(self, |pool| pool.close().await)
    }
}

/// SQLite has one writer at a time; the others wait in its busy handler. The stock handler
/// (behind `busy_timeout`) sleeps 1, 2, 5, 10 … 100 ms between tries, so a write that
/// just misses the lock waits far longer than the lock is held (a group commit holds it for
/// about a millisecond). This one tries again after 100 µs at first, backing off to 2 ms
/// so waiting threads do not crowd the CPU, and gives up after about [`LOCK_WAIT`]
/// (2 ms + 40 ms + 729 × 2 ms): the statement then fails with SQLITE_BUSY, which the
/// service layer answers with 503.
fn short_busy_waits(db: *mut libsqlite3_sys::sqlite3) {
    extern "C" fn again(_: *mut std::ffi::c_void, tries: std::ffi::c_int) -> std::ffi::c_int {
        let pause_us = match tries {
            0..20 => 100,
            20..100 => 500,
            100..829 => 2_000,
            _ => return 0,
        };
        std::thread::sleep(std::time::Duration::from_micros(pause_us));
        1
    }
    // SAFETY: `db` is the live connection handle held under sqlx's lock for this call; the
    // handler touches no shared state and is a plain `extern "C"` function.
    unsafe {
        libsqlite3_sys::sqlite3_busy_handler(db, Some(again), std::ptr::null_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without `HOOKLINE_SQLITE_SYNCHRONOUS`, every commit is synced (`PRAGMA synchronous`
    /// 2 = FULL): an accepted event survives a power loss.
    #[tokio::test]
    async fn sqlite_syncs_every_commit_by_default() {
        if std::env::var_os("HOOKLINE_SQLITE_SYNCHRONOUS").is_some() {
            panic!("unset HOOKLINE_SQLITE_SYNCHRONOUS to test the default");
        }
        let dir = std::env::temp_dir().join(format!("hookline-sync-{}", std::process::id()));
        let url = format!("sqlite://{}/default.db", dir.display());
        let db = Db::connect(&url).await.unwrap();
        let Db::Sqlite(pool) = &db else {
            unreachable!()
        };
        let mode: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(mode, 2);
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(journal, "wal");
        db.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
