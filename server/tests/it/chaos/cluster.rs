//! A private Postgres cluster for scenarios that stop or restart the database (the shared
//! test cluster serves the other tests running beside them). Built from the same
//! `initdb`/`pg_ctl` binaries as `scripts/with-postgres.sh`; removed when dropped.

use std::path::PathBuf;
use std::process::Command;

pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
}

fn pg_bin() -> PathBuf {
    if let Ok(out) = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
        && out.status.success()
    {
        let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        return path.parent().unwrap().to_path_buf();
    }
    std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries (make test installs them)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .find(|b| b.join("initdb").exists())
        .expect("an initdb under /usr/lib/postgresql")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Cluster {
    pub fn start() -> Cluster {
        let dir = std::env::temp_dir().join(format!(
            "hookline-chaos-pg-{}",
            app::backend::ids::random_hex(6)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            assert!(
                Command::new("chown")
                    .arg("postgres")
                    .arg(&dir)
                    .status()
                    .unwrap()
                    .success()
            );
        }
        let c = Cluster {
            dir,
            bin: pg_bin(),
            port: crate::resilience::free_port(),
        };
        c.run(
            "initdb",
            &[
                "-D",
                &c.data(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        );
        c.up();
        c
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let exe = self.bin.join(tool);
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        let out = cmd.args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Starts the server (again), waiting until it accepts connections.
    pub fn up(&self) {
        let log = self.dir.join("server.log").display().to_string();
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-l", &log, "-w", "-o", &opts, "start"],
        );
    }

    /// Stops the server: `fast` disconnects every client and shuts down cleanly.
    pub fn down(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "{} {} -D {} -m immediate stop >/dev/null 2>&1",
                if is_root() {
                    "runuser -u postgres --"
                } else {
                    ""
                },
                self.bin.join("pg_ctl").display(),
                self.data()
            ))
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
