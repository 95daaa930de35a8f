//! Raw SQL for the tests that look at what is stored (or break it on purpose): the one
//! place the tests reach the tables directly, the same statement on either database.
//! Everything else goes through the server, as users do.

use app::backend::Db;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Postgres, Sqlite};

/// A value both databases can decode (a column of `i64`, `String`, `Option<…>`, …).
pub trait Value:
    for<'r> sqlx::Decode<'r, Sqlite>
    + sqlx::Type<Sqlite>
    + for<'r> sqlx::Decode<'r, Postgres>
    + sqlx::Type<Postgres>
    + Send
    + Unpin
{
}
impl<T> Value for T where
    T: for<'r> sqlx::Decode<'r, Sqlite>
        + sqlx::Type<Sqlite>
        + for<'r> sqlx::Decode<'r, Postgres>
        + sqlx::Type<Postgres>
        + Send
        + Unpin
{
}

/// A row both databases can decode (a tuple of [`Value`]s).
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

/// The first column of every row (`$1`, `$2`, … bound to `binds`).
pub async fn column<T: Value>(db: &Db, sql: &str, binds: &[&str]) -> Vec<T> {
    app::with_db!(db, |pool| {
        let mut q = sqlx::query_scalar(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.fetch_all(pool).await
    })
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The first column of the one row the statement returns.
pub async fn scalar<T: Value>(db: &Db, sql: &str, binds: &[&str]) -> T {
    app::with_db!(db, |pool| {
        let mut q = sqlx::query_scalar(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.fetch_one(pool).await
    })
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// A `SELECT COUNT(*) …` without parameters.
pub async fn count(db: &Db, sql: &str) -> i64 {
    scalar(db, sql, &[]).await
}

/// Every row, decoded as `T`.
pub async fn rows<T: Row>(db: &Db, sql: &str, binds: &[&str]) -> Vec<T> {
    app::with_db!(db, |pool| {
        let mut q = sqlx::query_as(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.fetch_all(pool).await
    })
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Runs a statement; the rows it changed, or the database's refusal.
pub async fn execute(db: &Db, sql: &str, binds: &[&str]) -> Result<u64, sqlx::Error> {
    app::with_db!(db, |pool| {
        let mut q = sqlx::query(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.execute(pool).await.map(|r| r.rows_affected())
    })
}
