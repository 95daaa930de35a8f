//! The database's own floor, measured from the bench process on the run's database before
//! the server starts, one request at a time on an idle machine: a trivial statement's round
//! trip through sqlx's pool, and a durable commit of one small row (`BEGIN`, `INSERT`,
//! `COMMIT`, flushed as the run's durability settings say). A publish answered at low load
//! is a handful of such round trips, a commit, and two HTTP requests on loopback.

use app::backend::Db;
use app::with_db;
use std::time::Instant;

/// Round trips per figure.
const ROUNDS: usize = 1000;

pub(super) async fn measure(db: &Db, out: &mut super::report::Run) -> anyhow::Result<()> {
    let mut statement = Vec::with_capacity(ROUNDS);
    let mut commit = Vec::with_capacity(ROUNDS);
    with_db!(db, |pool| {
        async {
            sqlx::query("CREATE TABLE IF NOT EXISTS bench_floor (n BIGINT NOT NULL)")
                .execute(pool)
                .await?;
            for _ in 0..ROUNDS {
                let at = Instant::now();
                sqlx::query("SELECT 1").execute(pool).await?;
                statement.push(at.elapsed().as_micros() as u64);
            }
            for n in 0..ROUNDS {
                let at = Instant::now();
                let mut tx = pool.begin().await?;
                sqlx::query("INSERT INTO bench_floor (n) VALUES ($1)")
                    .bind(n as i64)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                commit.push(at.elapsed().as_micros() as u64);
            }
            sqlx::query("DROP TABLE bench_floor").execute(pool).await?;
            Ok::<_, sqlx::Error>(())
        }
        .await
    })?;
    for (what, mut v) in [
        ("a statement's round trip", statement),
        ("a durable commit", commit),
    ] {
        v.sort_unstable();
        for (name, p) in [("p50", 0.50), ("p95", 0.95)] {
            // `percentile` answers ms; these are tens of µs.
            out.add(
                format!("database floor: {what}, {name}"),
                super::percentile(&v, p) * 1000.0,
                "µs",
            );
        }
    }
    Ok(())
}
