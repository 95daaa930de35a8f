//! A throwaway Postgres for the bench, started from the machine's `initdb` and `postgres`
//! (as the `postgres` user when run as root), on 127.0.0.1 and a free port, in a temp dir.
//! Durable, as Svix was measured: `fsync` and `synchronous_commit` on (the defaults), and
//! `pg_stat_statements` loaded so a run can be looked into. Stopped and removed on drop.

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    /// `postgres://postgres@127.0.0.1:PORT`, without a database name.
    pub url: String,
}

fn pg_bin() -> anyhow::Result<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").exists())
        .collect();
    found.sort();
    found
        .pop()
        .context("no initdb under /usr/lib/postgresql (make test installs PostgreSQL)")
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// `program args…`, as the `postgres` user when this runs as root.
fn as_pg(program: &Path, args: &[&str]) -> anyhow::Result<()> {
    let out = if is_root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(program)
            .args(args)
            .output()
    } else {
        Command::new(program).args(args).output()
    }
    .with_context(|| format!("running {}", program.display()))?;
    anyhow::ensure!(
        out.status.success(),
        "{} failed: {}{}",
        program.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

impl Cluster {
    pub fn start() -> anyhow::Result<Cluster> {
        let bin = pg_bin()?;
        let dir = std::env::temp_dir().join(format!("hookline-bench-pg-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        if is_root() {
            Command::new("chown").arg("postgres").arg(&dir).status()?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let data = dir.join("data");
        let (data_s, dir_s) = (data.to_string_lossy(), dir.to_string_lossy());
        as_pg(
            &bin.join("initdb"),
            &[
                "-D",
                &data_s,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        )?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {dir_s} -c fsync=on -c synchronous_commit=on \
             -c max_connections=200 -c shared_preload_libraries=pg_stat_statements"
        );
        let log = dir.join("server.log");
        as_pg(
            &bin.join("pg_ctl"),
            &[
                "-D",
                &data_s,
                "-l",
                &log.to_string_lossy(),
                "-w",
                "-o",
                &options,
                "start",
            ],
        )?;
        Ok(Cluster {
            dir,
            bin,
            url: format!("postgres://postgres@127.0.0.1:{port}"),
        })
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = as_pg(
            &self.bin.join("pg_ctl"),
            &["-D", &data.to_string_lossy(), "-m", "immediate", "stop"],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
