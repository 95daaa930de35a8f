//! Leases held by live work. Every claimed delivery is registered here with its claim's
//! token, together with a [`Hold`] that travels with the work (a task, or an open batch).
//! The heartbeat renews exactly the registered claims; when a hold is dropped (the work
//! finished, gave up, or panicked) its claims leave the registry, so a lease whose task is
//! gone lapses instead of being renewed forever. A task that panics hands its deliveries
//! back at once.

use super::store::{Claimed, EngineStore};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
pub struct Registry {
    live: Mutex<HashMap<String, String>>,
}

impl Registry {
    /// Registers claims and returns the hold that keeps them alive.
    pub fn hold(self: &Arc<Self>, store: &EngineStore, claimed: &[Claimed]) -> Hold {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        for d in claimed {
            live.insert(d.id.clone(), d.lease_token.clone());
        }
        Hold {
            registry: self.clone(),
            store: store.clone(),
            claims: claimed.to_vec(),
        }
    }

    /// One hold per claim, so each delivery's lease lives exactly as long as its own work.
    pub fn hold_each(self: &Arc<Self>, store: &EngineStore, claimed: &[Claimed]) -> Vec<Hold> {
        claimed
            .iter()
            .map(|d| self.hold(store, std::slice::from_ref(d)))
            .collect()
    }

    /// The claims to renew: (delivery id, token).
    pub fn snapshot(&self) -> Vec<(String, String)> {
        let live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    pub fn held(&self) -> usize {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn forget(&self, claims: &[Claimed]) {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        for d in claims {
            if live.get(&d.id) == Some(&d.lease_token) {
                live.remove(&d.id);
            }
        }
    }
}

/// Keeps its claims' leases renewed while it lives.
pub struct Hold {
    registry: Arc<Registry>,
    store: EngineStore,
    claims: Vec<Claimed>,
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.registry.forget(&self.claims);
        if std::thread::panicking() && !self.claims.is_empty() {
            // The work panicked: hand its deliveries back now rather than after the lease.
            let claims = std::mem::take(&mut self.claims);
            tracing::error!(
                first = %claims[0].id,
                "a delivery task panicked; its deliveries are handed back"
            );
            let store = self.store.clone();
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    for d in &claims {
                        if let Err(e) = store
                            .release_one(d, "the delivery task failed; handed back for a retry")
                            .await
                        {
                            tracing::warn!(error = %e, delivery = %d.id, "handing back after a panic failed; the lease will expire");
                        }
                    }
                });
            }
        }
    }
}

/// Renews the live claims' leases, and returns expired ones (any node's) to the queue.
pub async fn heartbeat(
    store: EngineStore,
    registry: Arc<Registry>,
    lease: Duration,
    wake: Arc<tokio::sync::Notify>,
) {
    let mut tick = tokio::time::interval(lease / 3);
    loop {
        tick.tick().await;
        let held = registry.snapshot();
        if !held.is_empty()
            && let Err(e) = store.renew(&held, lease.as_millis() as i64).await
        {
            tracing::warn!(error = %e, held = held.len(), "renewing delivery leases failed");
        }
        match store.recover_expired().await {
            Ok(0) => {}
            Ok(n) => {
                tracing::warn!(recovered = n, "expired leases returned to the queue");
                wake.notify_one();
            }
            Err(e) => tracing::warn!(error = %e, "recovering expired leases failed"),
        }
    }
}
