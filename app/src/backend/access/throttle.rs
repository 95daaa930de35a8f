//! Login throttling: after a few free failures, each further attempt for the same account
//! or from the same address must wait twice as long as the last (capped). Throttled
//! attempts are refused before the password is even checked, and an admitted attempt
//! counts as a failure from the moment it is admitted (until it succeeds), so a parallel
//! wave gets no more checks than a serial one. Kept in memory per process.

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
    /// Attempts counted against this key, the unresolved ones included.
    count: u32,
    last: Instant,
    /// Attempts reserved and not yet resolved (their password is being checked).
    pending: u32,
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

    fn all(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.account).chain(self.address.as_ref())
    }
}

/// A reserved sign-in attempt: it already counts as a failure, so attempts checked in
/// parallel cannot all slip past the limit. Resolve it with [`LoginAttempt::succeeded`] or
/// [`LoginAttempt::failed`]; dropped unresolved (the request was cancelled mid-check), it
/// stays a failure.
pub struct LoginAttempt<'a> {
    throttle: &'a LoginThrottle,
    keys: ThrottleKeys,
    resolved: bool,
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn free(&self, key: &str) -> u32 {
        if key.starts_with("account:") {
            self.policy.free_per_account
        } else {
            self.policy.free_per_address
        }
    }

    fn delay_after(&self, count: u32, free: u32) -> Duration {
        let excess = (count - free).min(20);
        Duration::from_secs(1u64 << excess).min(self.policy.max_delay)
    }

    /// How long `entry` must still wait. Beyond the free attempts, one attempt at a time:
    /// while one is being checked, the next waits a full delay.
    fn wait_for(&self, entry: &Failures, free: u32, now: Instant) -> Duration {
        if entry.count < free || now.duration_since(entry.last) > self.policy.window {
            return Duration::ZERO;
        }
        let delay = self.delay_after(entry.count, free);
        if entry.pending > 0 {
            return delay;
        }
        delay.saturating_sub(now.duration_since(entry.last))
    }

    /// Refuses with 429 while either key must still wait; otherwise counts the attempt
    /// before the password is checked.
    pub fn reserve(&self, keys: ThrottleKeys) -> Result<LoginAttempt<'_>, AppError> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let wait = keys
            .all()
            .filter_map(|k| map.get(k).map(|e| self.wait_for(e, self.free(k), now)))
            .max()
            .unwrap_or_default();
        if !wait.is_zero() {
            return Err(AppError::TooManyRequests {
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        if map.len() > 50_000 {
            let window = self.policy.window + self.policy.max_delay;
            map.retain(|_, f| f.pending > 0 || now.duration_since(f.last) < window);
        }
        for key in keys.all() {
            let entry = map.entry(key.clone()).or_insert(Failures {
                count: 0,
                last: now,
                pending: 0,
            });
            if entry.pending == 0 && now.duration_since(entry.last) > self.policy.window {
                entry.count = 0;
            }
            entry.count += 1;
            entry.pending += 1;
            entry.last = now;
        }
        drop(map);
        Ok(LoginAttempt {
            throttle: self,
            keys,
            resolved: false,
        })
    }

    fn resolve(&self, keys: &ThrottleKeys, outcome: Outcome) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for key in keys.all() {
            let Some(entry) = map.get_mut(key) else {
                continue;
            };
            entry.pending = entry.pending.saturating_sub(1);
            match outcome {
                // The wait runs from when the failure was known.
                Outcome::Failed => entry.last = now,
                Outcome::Succeeded | Outcome::Withdrawn => {
                    entry.count = entry.count.saturating_sub(1)
                }
            }
        }
        // A successful sign-in clears the account's failures (not the address's: one good
        // password must not reset a spray against many accounts).
        if matches!(outcome, Outcome::Succeeded)
            && map.get(&keys.account).is_some_and(|e| e.pending == 0)
        {
            map.remove(&keys.account);
        }
    }
}

#[derive(Clone, Copy)]
enum Outcome {
    Succeeded,
    Failed,
    /// Nothing was checked (e.g. the hashing queue was full): the attempt does not count.
    Withdrawn,
}

impl LoginAttempt<'_> {
    fn finish(mut self, outcome: Outcome) {
        self.resolved = true;
        self.throttle.resolve(&self.keys, outcome);
    }

    pub fn succeeded(self) {
        self.finish(Outcome::Succeeded)
    }

    pub fn failed(self) {
        self.finish(Outcome::Failed)
    }

    pub fn withdrawn(self) {
        self.finish(Outcome::Withdrawn)
    }
}

impl Drop for LoginAttempt<'_> {
    fn drop(&mut self) {
        if !self.resolved {
            self.throttle.resolve(&self.keys, Outcome::Failed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(free_per_account: u32, free_per_address: u32) -> LoginThrottle {
        LoginThrottle::new(ThrottlePolicy {
            free_per_account,
            free_per_address,
            ..Default::default()
        })
    }

    fn keys(email: &str, ip: Option<&str>) -> ThrottleKeys {
        ThrottleKeys::new(email, ip.map(|a| a.parse().unwrap()))
    }

    fn throttled(result: Result<LoginAttempt<'_>, AppError>) -> bool {
        match result {
            Err(AppError::TooManyRequests { retry_after_secs }) => {
                assert!(retry_after_secs >= 1);
                true
            }
            Err(other) => panic!("expected 429, got {other:?}"),
            Ok(attempt) => {
                attempt.withdrawn();
                false
            }
        }
    }

    #[test]
    fn account_is_throttled_after_free_failures_and_cleared_by_success() {
        let t = throttle(2, 100);
        let k = || keys("a@b.c", Some("127.0.0.1"));
        t.reserve(k()).unwrap().failed();
        t.reserve(k()).unwrap().failed();
        assert!(throttled(t.reserve(k())), "third attempt waits");
        // Another account from another address is unaffected.
        assert!(!throttled(t.reserve(keys("x@b.c", None))));
        let t = throttle(2, 100);
        t.reserve(k()).unwrap().failed();
        t.reserve(k()).unwrap().succeeded();
        t.reserve(k()).unwrap().failed();
        assert!(!throttled(t.reserve(k())), "a success cleared the account");
    }

    #[test]
    fn address_is_throttled_across_accounts() {
        let t = throttle(100, 3);
        for i in 0..3 {
            t.reserve(keys(&format!("u{i}@b.c"), Some("10.1.2.3")))
                .unwrap()
                .failed();
        }
        assert!(throttled(t.reserve(keys("fresh@b.c", Some("10.1.2.3")))));
        assert!(!throttled(t.reserve(keys("fresh@b.c", None))));
    }

    #[test]
    fn attempts_in_parallel_are_counted_before_they_are_checked() {
        let t = throttle(5, 100);
        // 50 attempts at once, none resolved yet: only the free ones get through.
        let mut admitted = Vec::new();
        let mut refused = 0;
        for _ in 0..50 {
            match t.reserve(keys("a@b.c", None)) {
                Ok(a) => admitted.push(a),
                Err(AppError::TooManyRequests { .. }) => refused += 1,
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!((admitted.len(), refused), (5, 45));
        for a in admitted {
            a.failed();
        }
        assert!(
            throttled(t.reserve(keys("a@b.c", None))),
            "even after they fail"
        );
    }

    #[test]
    fn an_abandoned_attempt_counts_and_a_withdrawn_one_does_not() {
        let t = throttle(1, 100);
        t.reserve(keys("a@b.c", None)).unwrap().withdrawn();
        drop(t.reserve(keys("a@b.c", None)).unwrap());
        assert!(throttled(t.reserve(keys("a@b.c", None))));
    }
}
