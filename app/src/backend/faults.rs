//! Fault injection points for tests and, later, the fault-injection harness. All off by
//! default; nothing in normal operation sets them.

use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Default)]
pub struct Faults {
    /// Fail a publish after its event row is written and before its deliveries are: the
    /// transaction must leave neither behind.
    pub fail_after_event_insert: AtomicBool,
}

impl Faults {
    pub fn triggered(flag: &AtomicBool) -> bool {
        flag.load(Ordering::Relaxed)
    }
}
