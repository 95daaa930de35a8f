//! Fault injection points for tests and the fault-and-abuse suite. All off by default;
//! nothing in normal operation sets them.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

#[derive(Debug, Default)]
pub struct Faults {
    /// Fail a publish after its event row is written and before its deliveries are: the
    /// transaction must leave neither behind.
    pub fail_after_event_insert: AtomicBool,
    /// Fail this many of the engine's outcome writes (each try counts).
    pub fail_outcome_writes: AtomicU32,
    /// Lose this many deliveries a publish hands to the engine, after their commit and
    /// before anything is sent, as a node that dies right then would.
    pub lose_handoffs: AtomicU32,
    /// Make this many delivery tasks panic before they send.
    pub panic_deliveries: AtomicU32,
}

impl Faults {
    pub fn triggered(flag: &AtomicBool) -> bool {
        flag.load(Ordering::Relaxed)
    }

    /// Uses up one of a counted fault: true while any were left.
    pub fn take(counter: &AtomicU32) -> bool {
        counter
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }
}
