//! The bench's runs: for each `--database`, `--runs` fresh databases in turn (a SQLite
//! file, or a database in a Postgres server, the bench's own durable cluster when asked
//! for `postgres`), each measured against `hookline serve` as a child process, and the
//! durability settings the figures were measured with.

use super::{BenchArgs, measure, postgres, report};
use anyhow::Context;

/// Where one column's runs go.
enum Target {
    Sqlite,
    /// A server URL without a database name; each run gets a fresh database in it.
    Postgres(String),
}

pub(super) async fn run_all(args: &BenchArgs, dir: &std::path::Path) -> anyhow::Result<()> {
    // Started once, only if a column asks for it; stopped when the bench ends.
    let mut cluster: Option<postgres::Cluster> = None;
    let mut columns = Vec::new();
    for spec in &args.databases {
        let target = match spec.as_str() {
            "sqlite" => Target::Sqlite,
            "postgres" => {
                if cluster.is_none() {
                    cluster = Some(postgres::Cluster::start()?);
                }
                Target::Postgres(cluster.as_ref().map(|c| c.url.clone()).unwrap_or_default())
            }
            url if url.starts_with("postgres://") => {
                Target::Postgres(url.trim_end_matches('/').to_owned())
            }
            other => anyhow::bail!(
                "--database takes sqlite, postgres or a postgres:// URL, not {other:?}"
            ),
        };
        let mut runs = Vec::new();
        let mut durability = String::new();
        for n in 1..=args.runs.max(1) {
            let db_url = match &target {
                Target::Sqlite => format!("sqlite://{}/bench-{n}.db", dir.display()),
                Target::Postgres(server) => {
                    format!("{server}/hookline_bench_{}_{n}", std::process::id())
                }
            };
            println!("== {spec}, run {n} of {}", args.runs.max(1));
            let (run, settings) = one_run(args, &db_url).await?;
            if args.top_statements > 0 && matches!(target, Target::Postgres(_)) {
                top_statements(&db_url, args.top_statements).await?;
            }
            durability = settings;
            runs.push(run);
        }
        columns.push(report::Column {
            database: spec.clone(),
            durability,
            runs,
        });
    }
    report::print(&columns);
    Ok(())
}

/// How durable a commit is on `db`, as its settings say.
async fn durability(db: &app::backend::Db) -> anyhow::Result<String> {
    Ok(match db {
        app::backend::Db::Sqlite(pool) => {
            let (journal, sync): (String, i64) = (
                sqlx::query_scalar("PRAGMA journal_mode")
                    .fetch_one(pool)
                    .await?,
                sqlx::query_scalar("PRAGMA synchronous")
                    .fetch_one(pool)
                    .await?,
            );
            let sync = match sync {
                0 => "OFF",
                1 => {
                    "NORMAL (WAL: a crash of the process loses nothing; a power loss may lose the last commits)"
                }
                2 => "FULL",
                _ => "EXTRA",
            };
            format!("SQLite journal_mode={journal}, synchronous={sync}")
        }
        app::backend::Db::Postgres(pool) => {
            let fsync: String = sqlx::query_scalar("SHOW fsync").fetch_one(pool).await?;
            let commit: String = sqlx::query_scalar("SHOW synchronous_commit")
                .fetch_one(pool)
                .await?;
            let version: String = sqlx::query_scalar("SHOW server_version")
                .fetch_one(pool)
                .await?;
            format!("Postgres {version}, fsync={fsync}, synchronous_commit={commit}")
        }
    })
}

/// One run on a fresh database: the server under test as a child process, measured.
async fn one_run(args: &BenchArgs, db_url: &str) -> anyhow::Result<(report::Run, String)> {
    let db = crate::startup::open_database(db_url).await?;
    let key = app::backend::access::api_keys::ApiKeys::new(db.clone())
        .create(
            &app::backend::Actor::cli(),
            "bench",
            app::types::ApiKeyScope::Admin,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .key;
    let settings = durability(&db).await?;
    db.close().await;

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--allow-private-targets",
            "--max-body-bytes",
            "16777216",
            // The 1,000-in-flight scenario measures what one node holds for one endpoint;
            // by default an endpoint gets a quarter of the slots.
            "--max-in-flight-per-endpoint",
            "1000",
        ])
        .env("DATABASE_URL", db_url)
        // A throwaway database: a throwaway master key, unless one is given.
        .env(
            "HOOKLINE_MASTER_KEY",
            std::env::var("HOOKLINE_MASTER_KEY").unwrap_or_else(|_| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>())
            }),
        )
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .spawn()
        .context("starting the server under test")?;
    let pid = child.id();
    let result = measure(args, port, pid, key).await;
    let _ = child.kill();
    let _ = child.wait();
    Ok((result?, settings))
}

/// The `n` statements that took the most execution time in the run on `db_url` (from
/// `pg_stat_statements`, reset afterwards), to see where a Postgres run's time went.
async fn top_statements(db_url: &str, n: usize) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(db_url).await?;
    if let Err(e) = sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .execute(&mut c)
        .await
    {
        println!("  (no pg_stat_statements: {e})");
        return Ok(());
    }
    let rows: Vec<(i64, f64, f64, i64, String)> = sqlx::query_as(
        "SELECT calls, total_exec_time, mean_exec_time, rows, query FROM pg_stat_statements \
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         ORDER BY total_exec_time DESC LIMIT $1",
    )
    .bind(n as i64)
    .fetch_all(&mut c)
    .await
    .context("reading pg_stat_statements")?;
    println!("  the {n} statements with the most execution time:");
    println!(
        "  {:>9} {:>10} {:>9} {:>9}  statement",
        "calls", "total ms", "mean ms", "rows"
    );
    for (calls, total, mean, rows, query) in rows {
        let text: String = query.split_whitespace().collect::<Vec<_>>().join(" ");
        let text: String = text.chars().take(160).collect();
        println!("  {calls:>9} {total:>10.0} {mean:>9.3} {rows:>9}  {text}");
    }
    sqlx::query("SELECT pg_stat_statements_reset()")
        .execute(&mut c)
        .await?;
    Ok(())
}
