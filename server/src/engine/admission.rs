//! Which endpoints a claim round may take from, and how many. Nothing is claimed that
//! cannot be sent at once, so no delivery waits for its endpoint while holding one of the
//! node's slots or a lease another endpoint's work could use:
//! - each endpoint may hold at most its share of the node's slots (`--max-in-flight-per-endpoint`),
//!   so a slow endpoint cannot occupy them all;
//! - a limited endpoint that used its budget is not asked again until its next token is due,
//!   or (concurrency) until one of its requests here finishes, or shortly, for other nodes';
//! - state for endpoints with nothing in flight and nothing to wait for is dropped each round.

use super::store::claims::OpenClaim;
use super::target::TargetMap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Local {
    in_flight: usize,
    blocked_until: Option<Instant>,
    /// Unblock as soon as one of its requests here finishes.
    until_finish: bool,
}

pub struct Admission {
    share: usize,
    endpoints: Mutex<HashMap<String, Local>>,
}

/// What one round claims: the open endpoints' statement, and the limited endpoints to ask
/// (with the most each may take).
pub struct Round {
    pub open: OpenClaim,
    pub limited: Vec<(String, usize)>,
}

/// Counts a claimed delivery as in flight here until dropped (finished, given up, panicked).
pub struct InFlight {
    admission: Arc<Admission>,
    endpoint: String,
    n: usize,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut map = self.admission.lock();
        if let Some(l) = map.get_mut(&self.endpoint) {
            l.in_flight = l.in_flight.saturating_sub(self.n);
            if l.until_finish {
                l.until_finish = false;
                l.blocked_until = None;
            }
        }
    }
}

impl Admission {
    pub fn new(share: usize) -> Arc<Admission> {
        Arc::new(Admission {
            share: share.max(1),
            endpoints: Mutex::new(HashMap::new()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Local>> {
        self.endpoints.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Plans a round taking at most `limit` deliveries.
    pub fn plan(&self, targets: &TargetMap, limit: usize) -> Round {
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, l| l.in_flight > 0 || l.blocked_until.is_some_and(|t| t > now));
        let mut round = Round {
            open: OpenClaim {
                limit,
                scan: limit,
                default_cap: self.share.min(limit),
                ..Default::default()
            },
            limited: Vec::new(),
        };
        for (id, target) in targets {
            let Ok(target) = target else {
                // Its attempts fail with the reason; taking them at the open pace is fine.
                round.open.each.push((id.clone(), round.open.default_cap));
                continue;
            };
            let share = self.share * target.per_request();
            let local = map.get(id);
            let in_flight = local.map_or(0, |l| l.in_flight);
            let blocked = local.is_some_and(|l| l.blocked_until.is_some_and(|t| t > now));
            let room = share.saturating_sub(in_flight).min(limit);
            if target.limited() {
                round.open.exclude.push(id.clone());
                if !blocked && room > 0 {
                    round.limited.push((id.clone(), room));
                }
            } else if room == 0 {
                round.open.exclude.push(id.clone());
            } else {
                if room < round.open.default_cap {
                    round.open.caps.push((id.clone(), room));
                }
                round
                    .open
                    .each
                    .push((id.clone(), room.min(round.open.default_cap)));
            }
        }
        // Reading past `limit` due rows only helps when the caps may turn some of them
        // down and another endpoint's rows lie further on; otherwise every row read is
        // taken, or none past the cap could be. (On Postgres each row read is also
        // locked until the claim commits, so a wider read costs writes and hides rows
        // from other nodes.)
        if round.open.each.len() > 1
            && (round.open.default_cap < limit || !round.open.caps.is_empty())
        {
            round.open.scan = limit * 4;
        }
        round
    }

    /// Counts `n` claimed deliveries of `endpoint` until the returned guard drops.
    pub fn start(self: &Arc<Self>, endpoint: &str, n: usize) -> InFlight {
        self.lock()
            .entry(endpoint.to_owned())
            .or_default()
            .in_flight += n;
        InFlight {
            admission: self.clone(),
            endpoint: endpoint.to_owned(),
            n,
        }
    }

    /// Counts one delivery of an open endpoint, if its share has room now (a delivery
    /// handed over by a publish, see [`super::handoff`]).
    pub fn try_start(self: &Arc<Self>, endpoint: &str) -> Option<InFlight> {
        let mut map = self.lock();
        let l = map.entry(endpoint.to_owned()).or_default();
        if l.in_flight >= self.share {
            return None;
        }
        l.in_flight += 1;
        drop(map);
        Some(InFlight {
            admission: self.clone(),
            endpoint: endpoint.to_owned(),
            n: 1,
        })
    }

    /// True if, with one more in flight, `endpoint` would be at its share: a delivery that
    /// just finished may have freed the room a waiting backlog needs.
    pub fn was_at_share(&self, endpoint: &str) -> bool {
        let in_flight = self.lock().get(endpoint).map_or(0, |l| l.in_flight);
        in_flight + 1 >= self.share
    }

    /// Not asked again before `at`.
    pub fn block_until(&self, endpoint: &str, at: Instant) {
        let mut map = self.lock();
        let l = map.entry(endpoint.to_owned()).or_default();
        l.blocked_until = Some(l.blocked_until.map_or(at, |t| t.max(at)));
    }

    /// Not asked again until one of its requests here finishes, or `at` at the latest
    /// (requests on other nodes finish too).
    pub fn block_until_finish(&self, endpoint: &str, at: Instant) {
        let mut map = self.lock();
        let l = map.entry(endpoint.to_owned()).or_default();
        l.blocked_until = Some(at);
        l.until_finish = l.in_flight > 0;
    }

    /// The soonest a blocked endpoint may be asked again, to wake up for it.
    pub fn next_unblock(&self) -> Option<Duration> {
        let now = Instant::now();
        self.lock()
            .values()
            .filter_map(|l| l.blocked_until)
            .filter(|t| *t > now)
            .min()
            .map(|t| t - now)
    }

    /// Endpoints with state kept here (for tests of eviction).
    pub fn tracked(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::target::Target;

    fn targets(specs: &[(&str, serde_json::Value)]) -> TargetMap {
        specs
            .iter()
            .map(|(id, extra)| {
                let mut v = serde_json::json!({"name": "n", "url": "https://x.example/"});
                v.as_object_mut()
                    .unwrap()
                    .extend(extra.as_object().unwrap().clone());
                let e = app::backend::endpoints::StoredEndpoint {
                    id: id.to_string(),
                    settings: serde_json::from_value(v).unwrap(),
                    secrets: Vec::new(),
                };
                (id.to_string(), Target::build(&e).map(Arc::new))
            })
            .collect()
    }

    #[test]
    fn the_claim_reads_past_its_limit_only_when_a_cap_may_turn_rows_down() {
        let one = targets(&[("only", serde_json::json!({}))]);
        let two = targets(&[
            ("hot", serde_json::json!({})),
            ("cold", serde_json::json!({})),
        ]);
        // Shares of 4 below a limit of 100: with two endpoints, the rows past one's cap
        // may hold the other's; with one, nothing past its cap can be taken.
        let small = Admission::new(4);
        assert_eq!(small.plan(&one, 100).open.scan, 100);
        assert_eq!(small.plan(&two, 100).open.scan, 400);
        // A share as large as the limit: every row read is taken.
        let large = Admission::new(100);
        assert_eq!(large.plan(&two, 100).open.scan, 100);
        let _busy = large.start("hot", 90);
        assert_eq!(large.plan(&two, 100).open.scan, 400, "hot is capped at 10");
    }

    #[test]
    fn a_busy_or_limited_endpoint_leaves_room_for_the_others() {
        let a = Admission::new(4);
        let t = targets(&[
            ("slow", serde_json::json!({})),
            ("fresh", serde_json::json!({})),
            ("throttled", serde_json::json!({"rate_limit_per_minute": 1})),
        ]);
        let slow = a.start("slow", 4);
        let round = a.plan(&t, 100);
        assert!(
            round.open.exclude.contains(&"slow".to_string()),
            "at its share"
        );
        assert!(
            round.open.exclude.contains(&"throttled".to_string()),
            "claimed apart"
        );
        assert!(!round.open.exclude.contains(&"fresh".to_string()));
        assert_eq!(round.open.default_cap, 4);
        assert_eq!(
            round.open.each,
            vec![("fresh".to_string(), 4)],
            "asked one by one: only the open endpoints with room"
        );
        assert_eq!(round.limited, vec![("throttled".to_string(), 4)]);

        a.block_until("throttled", Instant::now() + Duration::from_secs(60));
        let round = a.plan(&t, 100);
        assert!(round.limited.is_empty(), "not asked before its next token");
        assert!(a.next_unblock().unwrap() > Duration::from_secs(59));

        drop(slow);
        let round = a.plan(&t, 100);
        assert!(!round.open.exclude.contains(&"slow".to_string()));
        let partly = a.start("fresh", 3);
        let round = a.plan(&t, 100);
        assert_eq!(round.open.caps, vec![("fresh".to_string(), 1)]);
        drop(partly);
    }

    #[test]
    fn concurrency_waits_for_a_finish_and_idle_state_is_dropped() {
        let a = Admission::new(10);
        let t = targets(&[("c", serde_json::json!({"max_concurrency": 1}))]);
        let one = a.start("c", 1);
        a.block_until_finish("c", Instant::now() + Duration::from_secs(5));
        assert!(a.plan(&t, 10).limited.is_empty());
        drop(one);
        assert_eq!(a.plan(&t, 10).limited.len(), 1, "a finish unblocks it");
        assert_eq!(
            a.tracked(),
            0,
            "nothing in flight, nothing to wait for: dropped"
        );
    }
}
