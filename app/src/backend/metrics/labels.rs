//! The labels Hookline's series carry, and the budget that keeps their number bounded: an
//! endpoint or tenant label takes one of the first `limit` distinct values this process
//! saw; every later value shares `_other`, so a tenant-per-customer deployment cannot
//! grow a scrape without end.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use std::collections::HashSet;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The label value of everything past the budget.
pub const OTHER: &str = "_other";
/// The label value when there is no tenant (or no endpoint).
pub const NONE: &str = "_none";
/// The tenant label of a batch whose events name different tenants.
pub const MIXED: &str = "_mixed";
/// Distinct values per label by default (`--metrics-label-values`).
pub const DEFAULT_LABEL_VALUES: usize = 100;

/// What became of one attempt's deliveries.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Retry,
    Dead,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Retry => "retry",
            Self::Dead => "dead",
        }
    }
}

impl EncodeLabelValue for Outcome {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

/// Which door a publish came through.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum PublishKind {
    Single,
    Batch,
    Inbound,
}

impl PublishKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Single => "single",
            Self::Batch => "batch",
            Self::Inbound => "inbound",
        }
    }
}

impl EncodeLabelValue for PublishKind {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: Outcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PublishLabels {
    pub tenant: String,
    pub kind: PublishKind,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointLabels {
    pub endpoint: String,
    pub tenant: String,
}

/// The first `limit` distinct values of one label, remembered for the process's life.
#[derive(Debug)]
pub struct LabelBudget {
    limit: AtomicUsize,
    seen: Mutex<HashSet<String>>,
}

impl Default for LabelBudget {
    fn default() -> Self {
        Self {
            limit: AtomicUsize::new(DEFAULT_LABEL_VALUES),
            seen: Mutex::default(),
        }
    }
}

impl LabelBudget {
    pub fn set_limit(&self, limit: usize) {
        self.limit.store(limit, Ordering::Relaxed);
    }

    /// The label value `value` is counted under.
    pub fn value(&self, value: Option<&str>) -> String {
        let Some(v) = value else {
            return NONE.to_owned();
        };
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.contains(v) {
            return v.to_owned();
        }
        if seen.len() < self.limit.load(Ordering::Relaxed) {
            seen.insert(v.to_owned());
            return v.to_owned();
        }
        OTHER.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_past_the_budget_share_other() {
        let b = LabelBudget::default();
        b.set_limit(2);
        assert_eq!(b.value(Some("a")), "a");
        assert_eq!(b.value(Some("b")), "b");
        assert_eq!(b.value(Some("c")), OTHER);
        assert_eq!(
            b.value(Some("a")),
            "a",
            "a known value keeps its own series"
        );
        assert_eq!(
            b.value(None),
            NONE,
            "no value is not counted against the budget"
        );
    }
}
