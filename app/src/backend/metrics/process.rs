//! The standard `process_*` series (CPU, memory, file descriptors, threads, start time),
//! read from `/proc` at each scrape. Where `/proc` is missing (not Linux) they are left out.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// `/proc`'s clock ticks per second (USER_HZ, 100 on every Linux architecture).
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Debug, Default)]
pub struct ProcessCollector;

/// One reading of this process.
#[derive(Debug, Default, PartialEq)]
pub struct Reading {
    pub cpu_seconds: f64,
    pub resident_bytes: i64,
    pub virtual_bytes: i64,
    pub threads: i64,
    pub start_time_seconds: f64,
    pub open_fds: i64,
    pub max_fds: Option<i64>,
}

impl Reading {
    pub fn now() -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let boot = std::fs::read_to_string("/proc/stat").ok()?;
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
        let open_fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as i64);
        Self::parse(&stat, &status, &boot, &limits, open_fds)
    }

    /// From the texts of `/proc/self/stat`, `/proc/self/status`, `/proc/stat` and
    /// `/proc/self/limits`.
    pub fn parse(
        stat: &str,
        status: &str,
        boot: &str,
        limits: &str,
        open_fds: i64,
    ) -> Option<Self> {
        // The command name (field 2) is in parentheses and may hold spaces: count after it.
        let rest = &stat[stat.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // Field n of proc(5) is fields[n - 3].
        let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<f64>().ok());
        let boot_time = boot
            .lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse::<f64>().ok())?;
        let kib = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
                .map(|k| k * 1024)
        };
        let max_fds = limits
            .lines()
            .find_map(|l| l.strip_prefix("Max open files"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<i64>().ok());
        Some(Self {
            cpu_seconds: (field(14)? + field(15)?) / TICKS_PER_SECOND,
            threads: field(20)? as i64,
            start_time_seconds: boot_time + field(22)? / TICKS_PER_SECOND,
            virtual_bytes: field(23)? as i64,
            resident_bytes: kib("VmRSS:").unwrap_or(0),
            open_fds,
            max_fds,
        })
    }
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(r) = Reading::now() else {
            return Ok(());
        };
        let cpu = ConstCounter::new(r.cpu_seconds);
        cpu.encode(encoder.encode_descriptor(
            "process_cpu_seconds",
            "User and system CPU time spent, in seconds",
            None,
            cpu.metric_type(),
        )?)?;
        let mut gauge = |name: &str, help: &str, value: f64| {
            let g = ConstGauge::new(value);
            g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)
        };
        gauge(
            "process_resident_memory_bytes",
            "Resident memory size in bytes",
            r.resident_bytes as f64,
        )?;
        gauge(
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes",
            r.virtual_bytes as f64,
        )?;
        gauge(
            "process_open_fds",
            "Open file descriptors",
            r.open_fds as f64,
        )?;
        if let Some(max) = r.max_fds {
            gauge(
                "process_max_fds",
                "The soft limit on open file descriptors",
                max as f64,
            )?;
        }
        gauge("process_threads", "OS threads", r.threads as f64)?;
        gauge(
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch, in seconds",
            r.start_time_seconds,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_texts() {
        let stat = "4242 (hook line) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 7 0 1000 123456789 2000 18446744073709551615";
        let status = "Name:\thookline\nVmRSS:\t   51200 kB\nThreads:\t7\n";
        let boot = "cpu  1 2 3\nbtime 1700000000\n";
        let limits = "Limit Soft Limit Hard Limit Units\nMax open files            1024                 524288               files\n";
        let r = Reading::parse(stat, status, boot, limits, 12).unwrap();
        assert_eq!(r.cpu_seconds, 3.0);
        assert_eq!(r.threads, 7);
        assert_eq!(r.start_time_seconds, 1_700_000_010.0);
        assert_eq!(r.virtual_bytes, 123_456_789);
        assert_eq!(r.resident_bytes, 51_200 * 1024);
        assert_eq!(r.max_fds, Some(1024));
        assert_eq!(r.open_fds, 12);
    }

    #[test]
    fn reads_this_process() {
        if let Some(r) = Reading::now() {
            assert!(
                r.resident_bytes > 0 && r.threads >= 1 && r.open_fds > 0,
                "{r:?}"
            );
        }
    }
}
