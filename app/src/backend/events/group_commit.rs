//! Group commit: single publishes queue for the writer tasks (one on SQLite, a few on
//! Postgres), each of which stores whatever is waiting in one transaction, so under load
//! many events share a commit instead of each waiting for a commit of its own.

use super::outbox::Reuse;
use super::prepare::Prepared;
use super::{Events, Outcome};
use crate::error::{AppError, AppResult};

/// One queued single publish and where its answer goes.
pub(super) type Job = (Prepared, tokio::sync::oneshot::Sender<AppResult<Outcome>>);

/// Most single publishes stored in one transaction.
const GROUP_MAX: usize = 256;

/// Stores whatever single publishes are waiting, together, in one transaction: under load
/// many events share one commit instead of queueing for SQLite's one writer each. Every
/// event keeps its own idempotency check and its own deliveries in that transaction (a
/// reused key fails that publish alone); if the transaction fails, every caller in the
/// group gets the error and nothing is stored.
async fn group_commit(events: Events, queue: Queue) {
    loop {
        // One writer gathers at a time; it stores while the next one gathers.
        let jobs = {
            let mut queue = queue.lock().await;
            let Some(first) = queue.recv().await else {
                return;
            };
            let mut jobs = vec![first];
            while jobs.len() < GROUP_MAX {
                match queue.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            jobs
        };
        let (prepared, replies): (Vec<Prepared>, Vec<_>) = jobs.into_iter().unzip();
        match events.store(prepared, Reuse::FailsAlone).await {
            Ok(outcomes) => {
                for (outcome, reply) in outcomes.into_iter().zip(replies) {
                    let _ = reply.send(outcome);
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
                if matches!(e, AppError::Unavailable { .. }) {
                    // Publishes that queued while this group waited on the lock would each
                    // wait as long again behind it: they get the same 503 now, and retry.
                    let mut queue = queue.lock().await;
                    while let Ok((_, reply)) = queue.try_recv() {
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
        }
    }
}

/// The queue the writers share.
type Queue = std::sync::Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<Job>>>;

/// Writers storing groups side by side. SQLite has one writer at a time, so one. Postgres
/// commits concurrent transactions side by side and flushes their WAL together, so while
/// one group waits for its commit to reach the disk the next is written: with durable
/// commits (`synchronous_commit = on`) a single writer would cap single publishes at one
/// group per disk flush.
fn writers(db: &crate::backend::Db) -> usize {
    match db {
        crate::backend::Db::Sqlite(_) => 1,
        crate::backend::Db::Postgres(_) => 4,
    }
}

impl Events {
    /// The writer task's queue, started on first use.
    pub(super) fn writer(&self) -> &tokio::sync::mpsc::Sender<Job> {
        self.writer.get_or_init(|| {
            let (tx, rx) = tokio::sync::mpsc::channel(4 * GROUP_MAX);
            let queue: Queue = std::sync::Arc::new(tokio::sync::Mutex::new(rx));
            for _ in 0..writers(&self.db) {
                tokio::spawn(group_commit(self.clone(), queue.clone()));
            }
            tx
        })
    }
}
