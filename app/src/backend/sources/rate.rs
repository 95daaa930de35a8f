//! Per-source rate limits: a token bucket per source in this process, holding up to one
//! second's worth of requests and refilled continuously. With several `hookline`
//! processes behind a balancer each counts its own share.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Default)]
pub(super) struct Rates {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Rates {
    /// Takes one request for `source` at `per_second`: `Err(secs)` (when to try again)
    /// if its bucket is empty.
    pub fn take(&self, source: &str, per_second: u32, now: Instant) -> Result<(), u64> {
        let rate = f64::from(per_second.max(1));
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = buckets.entry(source.to_owned()).or_insert(Bucket {
            tokens: rate,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(rate);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err((((1.0 - b.tokens) / rate).ceil() as u64).max(1))
        }
    }

    /// Forgets a deleted source's bucket.
    pub fn forget(&self, source: &str) {
        self.buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_of_one_seconds_worth_then_the_refill_rate() {
        let r = Rates::default();
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(r.take("src", 5, t0).is_ok());
        }
        assert_eq!(r.take("src", 5, t0), Err(1));
        // Another source has its own bucket.
        assert!(r.take("other", 5, t0).is_ok());
        // 200 ms later one token (5/s) is back, and only one.
        let t1 = t0 + Duration::from_millis(200);
        assert!(r.take("src", 5, t1).is_ok());
        assert!(r.take("src", 5, t1).is_err());
        r.forget("src");
        assert!(r.take("src", 5, t1).is_ok());
    }
}
