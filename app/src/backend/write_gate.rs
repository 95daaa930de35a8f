//! SQLite's one writer, queued in this process. SQLite lets one connection write at a time;
//! the others learn the lock is taken only by trying, and retry from the busy handler after a
//! pause (see [`super::db`]), so under load the lock sits free during those pauses while
//! writers sleep, and every retry is a thread wake-up. The busy writers of this process (the
//! publish's group commits and batches, the inbound log of refused requests, and the
//! delivery engine's claims, lease renewals and outcome writes) instead queue here, in
//! arrival order, and each starts the moment the one before it ends.
//!
//! Nothing depends on the gate for correctness: SQLite's lock still decides, and a writer
//! that bypasses the gate (an admin change, a test-fire, another process such as the CLI)
//! meets the busy handler as before. Postgres lets transactions write side by side: there
//! the gate is open.
//!
//! A writer that queued here for up to [`super::db::LOCK_WAIT`] then waits for a connection
//! and the lock as any other, so behind a database locked from outside a request answers
//! 503 after at most the gate's wait plus its own.

use std::sync::Arc;

/// Shared by every busy writer of one database in this process.
#[derive(Clone, Default)]
pub struct WriteGate(Arc<tokio::sync::Mutex<()>>);

/// Held for the whole write transaction, commit included.
pub struct Entered {
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteGate {
    /// Waits for this process's previous SQLite writer to finish (none on Postgres). Waiting
    /// longer than a locked database would be waited for ([`super::db::LOCK_WAIT`]) fails as
    /// a busy pool does, which the service layer answers with 503.
    pub async fn enter(&self, db: &super::Db) -> Result<Entered, sqlx::Error> {
        if !matches!(db, super::Db::Sqlite(_)) {
            return Ok(Entered { _turn: None });
        }
        tokio::time::timeout(super::db::LOCK_WAIT, self.0.clone().lock_owned())
            .await
            .map(|guard| Entered { _turn: Some(guard) })
            .map_err(|_| sqlx::Error::PoolTimedOut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn sqlite_writers_take_turns_and_a_stuck_one_turns_the_next_away() {
        let dir = std::env::temp_dir().join(format!("hookline-gate-{}", std::process::id()));
        let db = crate::backend::Db::connect(&format!("sqlite://{}/g.db", dir.display()))
            .await
            .unwrap();
        let gate = WriteGate::default();
        let first = gate.enter(&db).await.unwrap();
        // A second writer waits for the first...
        let waiting = tokio::spawn({
            let (gate, db) = (gate.clone(), db.clone());
            async move { gate.enter(&db).await.map(drop) }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !waiting.is_finished(),
            "entered while the first held the gate"
        );
        drop(first);
        // ...and enters once it is done.
        waiting.await.unwrap().unwrap();
        // A writer that never finishes turns the next away after the lock wait, as 503.
        let stuck = gate.enter(&db).await.unwrap();
        let started = std::time::Instant::now();
        let refused = gate
            .enter(&db)
            .await
            .err()
            .expect("entered past a stuck writer");
        assert!(started.elapsed() >= crate::backend::db::LOCK_WAIT);
        assert_eq!(crate::error::AppError::from(refused).status(), 503);
        drop(stuck);
        db.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
