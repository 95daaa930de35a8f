//! argon2id hashing, always off the async threads and under a concurrency limit: each
//! hash costs 19 MiB and a core for a while, so at most one per core runs at once, a
//! bounded number wait their turn, and the rest are refused at once with 503 (a wave of
//! sign-ins cannot queue unbounded memory or starve the server). Unknown users are
//! verified against a dummy hash so that the time taken does not reveal whether an account
//! exists.

use crate::error::AppError;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many hashes may wait for a free core, per core, before further ones are refused.
const QUEUE_PER_CORE: usize = 16;

/// Admission to the hashing threads: `running` permits (one per core) and at most
/// `queue_limit` callers waiting for one.
pub struct HashGate {
    running: std::sync::Arc<Semaphore>,
    waiting: AtomicUsize,
    queue_limit: usize,
}

impl HashGate {
    pub fn new(running: usize, queue_limit: usize) -> Self {
        Self {
            running: std::sync::Arc::new(Semaphore::new(running.max(1))),
            waiting: AtomicUsize::new(0),
            queue_limit,
        }
    }

    /// The process-wide gate, sized to the cores this process may use.
    fn global() -> &'static HashGate {
        static GATE: OnceLock<HashGate> = OnceLock::new();
        GATE.get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            HashGate::new(cores, cores * QUEUE_PER_CORE)
        })
    }

    /// A running slot, waiting for one only while the queue has room.
    async fn admit(&self) -> Result<OwnedSemaphorePermit, AppError> {
        if let Ok(permit) = self.running.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let queued = self.waiting.fetch_add(1, Ordering::AcqRel);
        let _leave = DecrementOnDrop(&self.waiting);
        if queued >= self.queue_limit {
            return Err(AppError::Busy {
                message: "the server is busy checking other passwords; try again in a second"
                    .into(),
                retry_after_secs: 1,
            });
        }
        self.running
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| AppError::internal("password hashing gate closed", e))
    }

    /// Runs `work` on a blocking thread once admitted. The slot is held by the thread, so a
    /// caller that gives up (a timed-out request) does not free capacity still in use.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let permit = self.admit().await?;
        Ok(tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await?)
    }
}

struct DecrementOnDrop<'a>(&'a AtomicUsize);

impl Drop for DecrementOnDrop<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A stored PHC-format hash. Never serialised to clients.
#[derive(Clone)]
pub struct PasswordHashString(pub String);

impl std::fmt::Debug for PasswordHashString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHashString(***)")
    }
}

fn hasher() -> Argon2<'static> {
    // OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> Result<PasswordHashString, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| PasswordHashString(h.to_string()))
        .map_err(|e| AppError::internal("password hashing failed", e))
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_blocking("hookline-dummy-password-for-timing")
            .map(|h| h.0)
            .unwrap_or_default()
    })
}

pub async fn hash(password: String) -> Result<PasswordHashString, AppError> {
    HashGate::global()
        .run(move || hash_blocking(&password))
        .await?
}

/// Verifies `password` against `hash`, or against a dummy hash when there is no user, so
/// both paths cost the same.
pub async fn verify(password: String, hash: Option<String>) -> Result<bool, AppError> {
    HashGate::global()
        .run(move || match hash {
            Some(h) => verify_blocking(&password, &h),
            None => {
                verify_blocking(&password, dummy_hash());
                false
            }
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(
            h.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            h.0
        );
        assert!(
            verify("correct horse battery".into(), Some(h.0.clone()))
                .await
                .unwrap()
        );
        assert!(!verify("wrong".into(), Some(h.0)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once_and_admits_again_when_it_drains() {
        let gate = std::sync::Arc::new(HashGate::new(1, 1));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel();
        // One running (blocked until released)...
        let running = {
            let gate = gate.clone();
            tokio::spawn(async move {
                gate.run(move || {
                    started_tx.send(()).unwrap();
                    hold.recv().unwrap();
                    "first"
                })
                .await
            })
        };
        started.await.unwrap();
        // ...one waiting for the core...
        let waiting = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.run(|| "second").await })
        };
        while gate.waiting.load(Ordering::Acquire) == 0 {
            tokio::task::yield_now().await;
        }
        // ...so a third is refused without waiting.
        match gate.run(|| "third").await {
            Err(AppError::Busy {
                retry_after_secs, ..
            }) => assert_eq!(retry_after_secs, 1),
            other => panic!("expected Busy, got {other:?}"),
        }
        release.send(()).unwrap();
        assert_eq!(running.await.unwrap().unwrap(), "first");
        assert_eq!(waiting.await.unwrap().unwrap(), "second");
        assert_eq!(gate.waiting.load(Ordering::Acquire), 0);
        assert_eq!(gate.run(|| "again").await.unwrap(), "again");
    }
}
