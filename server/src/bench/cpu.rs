//! Where a phase's CPU went: the server process, the database's processes (Postgres; SQLite
//! runs inside the server), the bench itself (load generator and receiver), the machine's
//! idle time and the time its hypervisor took away ("steal"). Read from `/proc` before and
//! after a phase, so every throughput figure comes with the CPU it cost per event, and a
//! reader can tell a busy machine from a starved one. Linux only; elsewhere nothing is read
//! and the bench prints no CPU rows.

/// CPU ticks (`USER_HZ`, 100 a second on Linux): the counters at one moment, or what a
/// phase spent between two such moments.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Ticks {
    server: u64,
    database: u64,
    bench: u64,
    /// The machine, all cores: idle (with I/O wait), stolen, and everything.
    idle: u64,
    steal: u64,
    total: u64,
}

/// Ticks of one process (`utime + stime` from `/proc/<pid>/stat`), 0 if it is gone.
fn process_ticks(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(0, |stat| ticks_of(&stat))
}

/// `utime + stime` of one `/proc/<pid>/stat` line.
fn ticks_of(stat: &str) -> u64 {
    // The command name may hold spaces and parentheses; the fields after its last ')' are
    // plain.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3 of the full line, utime 14 and stime 15.
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    field(14).unwrap_or(0) + field(15).unwrap_or(0)
}

/// Ticks of every process named `postgres` on this machine (the bench's own cluster, or a
/// local server it was pointed at; any other local cluster is counted too). A process that
/// ends during a phase takes its ticks with it, so the figure is a floor; the server's pool
/// keeps its connections (and their backends) open through the bursts.
fn postgres_ticks() -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim_end() == "postgres")
        })
        .map(|pid| process_ticks(&pid))
        .sum()
}

impl Ticks {
    pub(super) fn now(server_pid: u32) -> Self {
        let mut s = Ticks {
            server: process_ticks(&server_pid.to_string()),
            database: postgres_ticks(),
            bench: process_ticks("self"),
            ..Ticks::default()
        };
        if let Some(cpu) = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|stat| stat.lines().next().map(str::to_owned))
        {
            // cpu user nice system idle iowait irq softirq steal guest guest_nice
            let f: Vec<u64> = cpu
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            let at = |i: usize| f.get(i).copied().unwrap_or(0);
            s.idle = at(3) + at(4);
            s.steal = at(7);
            // guest time is already counted in user.
            s.total = (0..8).map(at).sum();
        }
        s
    }

    /// What happened between `self` and `later`.
    pub(super) fn until(&self, later: &Ticks) -> Ticks {
        let d = |a: u64, b: u64| b.saturating_sub(a);
        Ticks {
            server: d(self.server, later.server),
            database: d(self.database, later.database),
            bench: d(self.bench, later.bench),
            idle: d(self.idle, later.idle),
            steal: d(self.steal, later.steal),
            total: d(self.total, later.total),
        }
    }
}

/// µs of CPU a tick is (`USER_HZ` is 100 on every Linux this runs on).
const TICK_US: f64 = 10_000.0;

/// Whose CPU a phase's rows show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Parts {
    /// The ceiling: the bench's client and sink alone.
    BenchOnly,
    /// A SQLite run: the database works inside the server.
    Server,
    /// A Postgres run: the server and the database's processes.
    ServerAndPostgres,
}

impl Ticks {
    /// Adds this phase's rows to `out`, per `per` events (or requests): µs of CPU per event
    /// in each of `parts` and the bench, and the machine's idle and stolen shares of the
    /// phase. `phase` is short: the table's first column is narrow.
    pub(super) fn report(
        &self,
        out: &mut super::report::Run,
        phase: &str,
        per: usize,
        parts: Parts,
    ) {
        if self.total == 0 || per == 0 {
            return; // not Linux, or nothing measured
        }
        let us = |ticks: u64| ticks as f64 * TICK_US / per as f64;
        let unit = if parts == Parts::BenchOnly {
            "CPU/request"
        } else {
            "CPU/event"
        };
        if parts != Parts::BenchOnly {
            out.add(format!("  {phase}, {unit}: server"), us(self.server), "µs");
        }
        if parts == Parts::ServerAndPostgres {
            out.add(
                format!("  {phase}, {unit}: Postgres"),
                us(self.database),
                "µs",
            );
        }
        out.add(
            format!("  {phase}, {unit}: bench (client + sink)"),
            us(self.bench),
            "µs",
        );
        let share = |ticks: u64| 100.0 * ticks as f64 / self.total as f64;
        out.add(format!("  {phase}: machine idle"), share(self.idle), "%");
        out.add(
            format!("  {phase}: stolen by the hypervisor"),
            share(self.steal),
            "%",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process_and_the_machine() {
        let before = Ticks::now(std::process::id());
        // Burn a little CPU so the process's own counter moves.
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < std::time::Duration::from_millis(120) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let spent = before.until(&Ticks::now(std::process::id()));
        if cfg!(target_os = "linux") {
            // The same process, read twice a moment apart (other tests run beside it).
            assert!(spent.bench > 0 && spent.server > 0, "{spent:?}");
            assert!(spent.total >= spent.idle + spent.steal, "{spent:?}");
        }
        let mut out = super::super::report::Run::default();
        spent.report(&mut out, "test", 10, Parts::Server);
        let names: Vec<&str> = out.figures.iter().map(|f| f.name.as_str()).collect();
        if cfg!(target_os = "linux") {
            assert_eq!(names.len(), 4, "{names:?}");
            assert!(out.figures[0].value > 0.0);
            assert!(names.iter().all(|n| n.len() <= 52), "too wide: {names:?}");
        }
    }

    #[test]
    fn a_name_with_spaces_and_parentheses_is_skipped_whole() {
        let stat = "4242 (tokio (worker) 1) S 1 4242 4242 0 -1 4194560 900 0 0 0 \
                    1234 56 0 0 20 0 9 0 100 0 0";
        assert_eq!(ticks_of(stat), 1234 + 56);
        assert_eq!(ticks_of("garbage"), 0);
        assert_eq!(process_ticks("no-such-pid"), 0);
    }
}
