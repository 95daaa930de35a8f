//! Batch mode: deliveries to a batching endpoint gather here after the claim, per endpoint,
//! until `max_events` are waiting or the first has waited `max_wait`; then they leave as one
//! request. Gathered deliveries stay leased (the heartbeat keeps them), so a crash hands
//! them to another node like any other claim.

use std::collections::HashMap;
use std::sync::Mutex;

/// What adding a delivery did.
#[derive(Debug)]
pub enum Added<T> {
    /// The batch is full: send these now.
    Full(Vec<T>),
    /// A new batch opened: flush generation `.0` when its wait is over.
    Opened(u64),
    /// Joined an open batch.
    Joined,
}

struct Open<T> {
    generation: u64,
    items: Vec<T>,
}

/// Open batches by endpoint; `T` is what a gathered delivery carries (its claim, envelope
/// and the guards that keep its lease).
pub struct Batcher<T> {
    open: Mutex<HashMap<String, Open<T>>>,
    generations: std::sync::atomic::AtomicU64,
}

impl<T> Default for Batcher<T> {
    fn default() -> Self {
        Batcher {
            open: Mutex::new(HashMap::new()),
            generations: Default::default(),
        }
    }
}

impl<T> Batcher<T> {
    pub fn add(&self, endpoint_id: &str, item: T, max_events: usize) -> Added<T> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(batch) = open.get_mut(endpoint_id) {
            batch.items.push(item);
            if batch.items.len() >= max_events {
                let full = open
                    .remove(endpoint_id)
                    .map(|b| b.items)
                    .unwrap_or_default();
                return Added::Full(full);
            }
            return Added::Joined;
        }
        if max_events <= 1 {
            return Added::Full(vec![item]);
        }
        let generation = self
            .generations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        open.insert(
            endpoint_id.to_owned(),
            Open {
                generation,
                items: vec![item],
            },
        );
        Added::Opened(generation)
    }

    /// The batch opened as `generation`, if it is still waiting (not sent when it filled up).
    pub fn take(&self, endpoint_id: &str, generation: u64) -> Option<Vec<T>> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        match open.get(endpoint_id) {
            Some(b) if b.generation == generation => open.remove(endpoint_id).map(|b| b.items),
            _ => None,
        }
    }

    /// Deliveries waiting in open batches.
    pub fn waiting(&self) -> usize {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.values().map(|b| b.items.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(n: usize) -> String {
        format!("dlv_{n}")
    }

    #[test]
    fn fills_then_opens_again_and_old_timers_find_nothing() {
        let b = Batcher::default();
        let Added::Opened(first) = b.add("ep", item(1), 3) else {
            panic!("the first delivery opens a batch")
        };
        assert!(matches!(b.add("ep", item(2), 3), Added::Joined));
        assert_eq!(b.waiting(), 2);
        let Added::Full(full) = b.add("ep", item(3), 3) else {
            panic!("the third fills it")
        };
        assert_eq!(full.len(), 3);
        assert_eq!(b.waiting(), 0);
        let Added::Opened(second) = b.add("ep", item(4), 3) else {
            panic!("a new batch opens")
        };
        assert_ne!(first, second);
        assert!(b.take("ep", first).is_none(), "the old timer takes nothing");
        assert_eq!(b.take("ep", second).map(|v| v.len()), Some(1));
        assert!(b.take("ep", second).is_none());
    }

    #[test]
    fn endpoints_batch_apart_and_one_per_batch_sends_at_once() {
        let b = Batcher::default();
        assert!(matches!(b.add("a", item(1), 2), Added::Opened(_)));
        assert!(matches!(b.add("b", item(2), 2), Added::Opened(_)));
        assert!(matches!(b.add("a", item(3), 2), Added::Full(v) if v.len() == 2));
        assert!(matches!(b.add("c", item(4), 1), Added::Full(v) if v.len() == 1));
        assert_eq!(b.waiting(), 1);
    }
}
