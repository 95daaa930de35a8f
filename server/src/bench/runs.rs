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
                    "NORMAL (HOOKLINE_SQLITE_SYNCHRONOUS=normal: a crash of the process loses nothing; a power loss may lose the last commits)"
                }
                2 => "FULL (every commit synced to disk, the default)",
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
    let mut floor = report::Run::default();
    super::floor::measure(&db, &mut floor).await?;
    db.close().await;

    let (mut child, port) = spawn_server(db_url)?;
    let pid = child.id();
    // A second node for the two-node scenario, where nodes can share the database.
    let mut second = db_url.starts_with("postgres").then(|| SecondNode {
        db_url: db_url.to_owned(),
        child: None,
    });
    let result = measure(args, port, pid, key, second.as_mut()).await;
    drop(second);
    let _ = child.kill();
    let _ = child.wait();
    let mut run = result?;
    for f in floor.figures {
        run.add(f.name, f.value, f.unit);
    }
    Ok((run, settings))
}

/// `hookline serve` on `db_url` as a child process on a free port.
fn spawn_server(db_url: &str) -> anyhow::Result<(std::process::Child, u16)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = std::process::Command::new(std::env::current_exe()?)
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
        // A throwaway database: a throwaway master key, unless one is given (both nodes of
        // a run read the same secrets, so the key is made once per bench).
        .env("HOOKLINE_MASTER_KEY", master_key())
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .spawn()
        .context("starting the server under test")?;
    Ok((child, port))
}

fn master_key() -> String {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        std::env::var("HOOKLINE_MASTER_KEY").unwrap_or_else(|_| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>())
        })
    })
    .clone()
}

/// Another `hookline serve` on the run's database, started when the scenario needs it and
/// stopped with the run.
pub(super) struct SecondNode {
    pub db_url: String,
    child: Option<std::process::Child>,
}

impl SecondNode {
    /// Starts the node and answers its base URL once it is ready.
    pub async fn start(&mut self) -> anyhow::Result<String> {
        let (child, port) = spawn_server(&self.db_url)?;
        self.child = Some(child);
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let ready = client
                .get(format!("{base}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(base);
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "the second node did not start"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SecondNode {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
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
