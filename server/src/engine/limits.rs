//! Per-endpoint limits on this node: a concurrency semaphore and a token bucket for
//! requests per minute (refilled continuously, holding at most one second's worth, so the
//! rate is smooth rather than bursty). Rebuilt when an endpoint's settings change.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

struct Bucket {
    per_sec: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(per_minute: u32) -> Bucket {
        let per_sec = per_minute as f64 / 60.0;
        let capacity = per_sec.max(1.0);
        Bucket {
            per_sec,
            capacity,
            tokens: capacity,
            last: Instant::now(),
        }
    }

    /// Takes a token, or says how long until one is there.
    fn take(&mut self) -> Result<(), Duration> {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.per_sec)
            .min(self.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.per_sec))
        }
    }
}

struct Gate {
    key: (Option<u32>, Option<u32>),
    concurrency: Option<Arc<Semaphore>>,
    bucket: Option<Arc<Mutex<Bucket>>>,
}

#[derive(Default)]
pub struct Limits {
    gates: Mutex<HashMap<String, Arc<Gate>>>,
}

/// Held for the duration of one request.
pub struct Pass {
    _permit: Option<OwnedSemaphorePermit>,
}

impl Limits {
    fn gate(&self, endpoint: &str, rate: Option<u32>, concurrency: Option<u32>) -> Arc<Gate> {
        let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
        match gates.get(endpoint) {
            Some(g) if g.key == (rate, concurrency) => g.clone(),
            _ => {
                let g = Arc::new(Gate {
                    key: (rate, concurrency),
                    concurrency: concurrency.map(|c| Arc::new(Semaphore::new(c as usize))),
                    bucket: rate.map(|r| Arc::new(Mutex::new(Bucket::new(r)))),
                });
                gates.insert(endpoint.to_string(), g.clone());
                g
            }
        }
    }

    /// Waits until the endpoint's limits let one more request go.
    pub async fn pass(&self, endpoint: &str, rate: Option<u32>, concurrency: Option<u32>) -> Pass {
        let gate = self.gate(endpoint, rate, concurrency);
        let permit = match &gate.concurrency {
            Some(s) => s.clone().acquire_owned().await.ok(),
            None => None,
        };
        if let Some(bucket) = &gate.bucket {
            loop {
                let wait = bucket.lock().unwrap_or_else(|p| p.into_inner()).take();
                match wait {
                    Ok(()) => break,
                    Err(d) => tokio::time::sleep(d).await,
                }
            }
        }
        Pass { _permit: permit }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refills_at_the_rate() {
        let mut b = Bucket::new(120);
        assert!(b.take().is_ok());
        assert!(b.take().is_ok());
        let wait = b.take().unwrap_err();
        assert!(
            wait <= Duration::from_millis(501) && wait > Duration::from_millis(400),
            "{wait:?}"
        );
    }

    #[tokio::test]
    async fn concurrency_is_bounded() {
        let limits = Limits::default();
        let a = limits.pass("ep", None, Some(1)).await;
        let waiting =
            tokio::time::timeout(Duration::from_millis(50), limits.pass("ep", None, Some(1))).await;
        assert!(waiting.is_err(), "second request waits");
        drop(a);
        assert!(
            tokio::time::timeout(Duration::from_millis(50), limits.pass("ep", None, Some(1)))
                .await
                .is_ok()
        );
    }
}
