//! Login throttling: after a few free failures, each further attempt for the same account
//! or from the same address must wait twice as long as the last (capped). Throttled
//! attempts are refused before the password is even checked. Kept in memory per process.

use crate::error::AppError;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub free_per_account: u32,
    pub free_per_address: u32,
    /// Failures older than this are forgotten.
    pub window: Duration,
    pub max_delay: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            free_per_account: 5,
            free_per_address: 20,
            window: Duration::from_secs(15 * 60),
            max_delay: Duration::from_secs(15 * 60),
        }
    }
}

struct Failures {
    count: u32,
    last: Instant,
}

pub struct LoginThrottle {
    policy: ThrottlePolicy,
    failures: Mutex<HashMap<String, Failures>>,
}

pub struct ThrottleKeys {
    account: String,
    address: Option<String>,
}

impl ThrottleKeys {
    pub fn new(email: &str, address: Option<std::net::IpAddr>) -> Self {
        Self {
            account: format!("account:{}", email.trim().to_lowercase()),
            address: address.map(|a| format!("address:{a}")),
        }
    }
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn wait_for(&self, entry: &Failures, free: u32, now: Instant) -> Option<Duration> {
        if entry.count < free || now.duration_since(entry.last) > self.policy.window {
            return None;
        }
        let excess = (entry.count - free).min(20);
        let delay = Duration::from_secs(1u64 << excess).min(self.policy.max_delay);
        let elapsed = now.duration_since(entry.last);
        (elapsed < delay).then(|| delay - elapsed)
    }

    /// Refuses with 429 while either key must still wait.
    pub fn check(&self, keys: &ThrottleKeys) -> Result<(), AppError> {
        let now = Instant::now();
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = Duration::ZERO;
        if let Some(e) = map.get(&keys.account) {
            wait = wait.max(
                self.wait_for(e, self.policy.free_per_account, now)
                    .unwrap_or_default(),
            );
        }
        if let Some(e) = keys.address.as_ref().and_then(|a| map.get(a)) {
            wait = wait.max(
                self.wait_for(e, self.policy.free_per_address, now)
                    .unwrap_or_default(),
            );
        }
        if wait.is_zero() {
            Ok(())
        } else {
            Err(AppError::TooManyRequests {
                retry_after_secs: wait.as_secs().max(1),
            })
        }
    }

    pub fn record_failure(&self, keys: &ThrottleKeys) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 50_000 {
            let window = self.policy.window + self.policy.max_delay;
            map.retain(|_, f| now.duration_since(f.last) < window);
        }
        for key in std::iter::once(&keys.account).chain(keys.address.as_ref()) {
            let entry = map.entry(key.clone()).or_insert(Failures {
                count: 0,
                last: now,
            });
            if now.duration_since(entry.last) > self.policy.window {
                entry.count = 0;
            }
            entry.count += 1;
            entry.last = now;
        }
    }

    /// A successful sign-in clears the account's failures (not the address's: one good
    /// password must not reset a spray against many accounts).
    pub fn record_success(&self, keys: &ThrottleKeys) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&keys.account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_is_throttled_after_free_failures_and_cleared_by_success() {
        let t = LoginThrottle::new(ThrottlePolicy {
            free_per_account: 2,
            free_per_address: 100,
            ..Default::default()
        });
        let keys = ThrottleKeys::new("a@b.c", Some("127.0.0.1".parse().unwrap()));
        assert!(t.check(&keys).is_ok());
        t.record_failure(&keys);
        assert!(t.check(&keys).is_ok());
        t.record_failure(&keys);
        match t.check(&keys) {
            Err(AppError::TooManyRequests { retry_after_secs }) => assert!(retry_after_secs >= 1),
            other => panic!("expected 429, got {other:?}"),
        }
        // Another account from another address is unaffected.
        assert!(t.check(&ThrottleKeys::new("x@b.c", None)).is_ok());
        t.record_success(&keys);
        assert!(t.check(&keys).is_ok());
    }

    #[test]
    fn address_is_throttled_across_accounts() {
        let t = LoginThrottle::new(ThrottlePolicy {
            free_per_account: 100,
            free_per_address: 3,
            ..Default::default()
        });
        let ip = Some("10.1.2.3".parse().unwrap());
        for i in 0..3 {
            t.record_failure(&ThrottleKeys::new(&format!("u{i}@b.c"), ip));
        }
        assert!(t.check(&ThrottleKeys::new("fresh@b.c", ip)).is_err());
        assert!(t.check(&ThrottleKeys::new("fresh@b.c", None)).is_ok());
    }
}
