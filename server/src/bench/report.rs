//! The bench's figures and their table: each figure measured once per run, printed as the
//! median with the spread (lowest–highest) over the runs, one column per database, and a
//! throughput as a share of the raw ceiling measured in the same run.

/// One measured number.
#[derive(Debug, Clone)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    /// A throughput the raw ceiling of its run puts in proportion.
    pub of_ceiling: bool,
}

/// One run's figures (the first is the ceiling) and anything worth saying about it.
#[derive(Debug, Default)]
pub struct Run {
    pub figures: Vec<Figure>,
    pub notes: Vec<String>,
}

impl Run {
    pub fn add(&mut self, name: impl Into<String>, value: f64, unit: &'static str) {
        self.push(name.into(), value, unit, false);
    }

    /// A rate the ceiling puts in proportion.
    pub fn rate(&mut self, name: impl Into<String>, value: f64, unit: &'static str) {
        self.push(name.into(), value, unit, true);
    }

    /// The table finds a figure by its name, so a name measured twice in one run would
    /// show one of the two: that is a bug in the bench, and stops it.
    fn push(&mut self, name: String, value: f64, unit: &'static str, of_ceiling: bool) {
        assert!(
            self.figures.iter().all(|f| f.name != name),
            "the bench measured the figure {name:?} twice in one run"
        );
        self.figures.push(Figure {
            name,
            value,
            unit,
            of_ceiling,
        });
    }

    fn ceiling(&self) -> Option<f64> {
        self.figures.first().map(|f| f.value)
    }
}

/// Every run of one database, and how durable its commits were.
pub struct Column {
    pub database: String,
    pub durability: String,
    pub runs: Vec<Run>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn number(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// One cell: `median unit`, then `(low–high)` over several runs, then `, n % of ceiling`.
fn cell(column: &Column, name: &str) -> String {
    let found: Vec<(f64, Option<f64>, &Figure)> = column
        .runs
        .iter()
        .filter_map(|r| {
            let f = r.figures.iter().find(|f| f.name == name)?;
            Some((f.value, r.ceiling(), f))
        })
        .collect();
    let Some((_, _, first)) = found.first() else {
        return "—".into();
    };
    let values: Vec<f64> = found.iter().map(|f| f.0).collect();
    let mut text = format!("{} {}", number(median(values.clone())), first.unit);
    if values.len() > 1 {
        let low = values.iter().copied().fold(f64::INFINITY, f64::min);
        let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        text.push_str(&format!(" ({}–{})", number(low), number(high)));
    }
    if first.of_ceiling {
        let shares: Vec<f64> = found
            .iter()
            .filter_map(|(v, c, _)| c.map(|c| 100.0 * v / c))
            .collect();
        text.push_str(&format!(", {:.0} % of ceiling", median(shares)));
    }
    text
}

/// Every figure's name once, in the order the runs measured them: a figure only one column
/// has (Postgres' own CPU, the two-node scenario) follows the figure its run measured before
/// it.
fn row_names(columns: &[Column]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in columns.iter().flat_map(|c| &c.runs) {
        let mut at = 0;
        for f in &r.figures {
            match names.iter().position(|n| *n == f.name) {
                Some(i) => at = i + 1,
                None => {
                    names.insert(at, f.name.clone());
                    at += 1;
                }
            }
        }
    }
    names
}

/// The table: a row per figure, a column per database.
pub fn print(columns: &[Column]) {
    let names = row_names(columns);
    println!();
    let runs = columns.first().map_or(0, |c| c.runs.len());
    if runs > 1 {
        println!("median of {runs} runs (lowest–highest)");
    }
    let mut header = format!("| {:<52} |", "figure");
    let mut rule = format!("|{}|", "-".repeat(54));
    for c in columns {
        header.push_str(&format!(" {:<40} |", c.database));
        rule.push_str(&format!("{}|", "-".repeat(42)));
    }
    println!("{header}");
    println!("{rule}");
    for name in &names {
        let mut line = format!("| {name:<52} |");
        for c in columns {
            line.push_str(&format!(" {:<40} |", cell(c, name)));
        }
        println!("{line}");
    }
    println!();
    for c in columns {
        println!("{}: {}", c.database, c.durability);
        for (i, r) in c.runs.iter().enumerate() {
            for n in &r.notes {
                println!("  run {}: {n}", i + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_show_the_median_the_spread_and_the_share_of_the_ceiling() {
        let run = |ceiling: f64, ingest: f64| {
            let mut r = Run::default();
            r.rate("ceiling", ceiling, "req/s");
            r.rate("ingest", ingest, "ev/s");
            r.add("p95", ingest / 1000.0, "ms");
            r
        };
        let c = Column {
            database: "sqlite".into(),
            durability: "WAL".into(),
            runs: vec![run(1000.0, 100.0), run(2000.0, 300.0), run(1000.0, 200.0)],
        };
        assert_eq!(cell(&c, "ingest"), "200 ev/s (100–300), 15 % of ceiling");
        assert_eq!(cell(&c, "p95"), "0.2 ms (0.1–0.3)");
        assert_eq!(cell(&c, "missing"), "—");
        assert_eq!(median(vec![1.0, 4.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn a_figure_of_one_column_alone_follows_its_predecessor() {
        let run = |names: &[&str]| {
            let mut r = Run::default();
            for n in names {
                r.add(*n, 1.0, "ms");
            }
            r
        };
        let column = |names: &[&str]| Column {
            database: String::new(),
            durability: String::new(),
            runs: vec![run(names)],
        };
        let columns = [
            column(&["ceiling", "single", "batch", "p95"]),
            column(&[
                "ceiling",
                "single",
                "single: postgres",
                "batch",
                "p95",
                "2 nodes",
            ]),
        ];
        assert_eq!(
            row_names(&columns),
            [
                "ceiling",
                "single",
                "single: postgres",
                "batch",
                "p95",
                "2 nodes"
            ]
        );
    }

    #[test]
    #[should_panic(expected = "twice in one run")]
    fn a_figure_measured_twice_in_one_run_stops_the_bench() {
        let mut r = Run::default();
        r.add("p95", 1.0, "ms");
        r.add("p95", 2.0, "ms");
    }
}
