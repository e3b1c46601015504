//! The sign-in log's writer: group commit off the request path.
//!
//! One INSERT and commit per sign-in was the largest cost of an SSO round trip (SQLite takes
//! one writer at a time: every sign-in queued behind the previous one's commit). Here a request
//! appends its record to a queue and goes on; one task at a time drains the queue, writing
//! everything queued meanwhile in one transaction. Under load a batch holds as many records as
//! arrived during the previous commit, so the log keeps up with any rate the signer reaches.
//!
//! What that trades: a record reaches the database after its response (milliseconds when the
//! server is quiet, up to 20 more under load), not
//! before; a crash (not a clean stop) can lose the records of those last milliseconds. Readers in
//! this process ([`Idp::flush_sign_ins`]) and a clean shutdown flush the queue first. When the
//! queue is very long (the database stalls), a request writes synchronously instead, which
//! holds callers back rather than growing memory without bound.

use crate::service::Idp;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use store::model::SignIn;
use store::Store;

/// Queue length beyond which a request waits for the write itself (back-pressure).
const MAX_QUEUED: usize = 20_000;
/// Under load (the previous batch held at least [`BUSY_BATCH`] records), how long a drain lets
/// records gather before it writes: each commit costs about as much as a hundred inserts, so a
/// short wait makes batches an order of magnitude larger. A quiet server writes at once, so a
/// record is in the database milliseconds after its response.
const GATHER: std::time::Duration = std::time::Duration::from_millis(20);
const BUSY_BATCH: usize = 4;

#[derive(Default)]
pub(crate) struct SignInWriter {
    queue: Mutex<Vec<SignIn>>,
    /// Held while a batch is being written: flushes wait for it.
    writing: tokio::sync::Mutex<()>,
    /// Whether a drain task is scheduled or running.
    draining: AtomicBool,
    /// The size of the last batch written (how busy the log is).
    last_batch: std::sync::atomic::AtomicUsize,
}

impl SignInWriter {
    fn take(&self) -> Vec<SignIn> {
        std::mem::take(&mut *self.queue.lock().unwrap_or_else(|e| e.into_inner()))
    }

    async fn write(store: &Store, batch: &[SignIn]) {
        if batch.is_empty() {
            return;
        }
        if let Err(e) = store.record_sign_ins(batch).await {
            tracing::error!(error = %e, records = batch.len(), "could not record sign-ins");
        }
    }

    /// Writes until the queue is empty, then lets the next record schedule a new drain.
    async fn drain(&self, store: &Store) {
        if self.last_batch.load(Ordering::Relaxed) >= BUSY_BATCH {
            tokio::time::sleep(GATHER).await;
        }
        let _writing = self.writing.lock().await;
        loop {
            let batch = self.take();
            if batch.is_empty() {
                self.draining.store(false, Ordering::Release);
                // A record queued between the take and the store above saw `draining` set and
                // did not schedule a drain: take it on here.
                let more = !self.queue.lock().unwrap_or_else(|e| e.into_inner()).is_empty();
                if more && !self.draining.swap(true, Ordering::AcqRel) {
                    continue;
                }
                return;
            }
            self.last_batch.store(batch.len(), Ordering::Relaxed);
            Self::write(store, &batch).await;
        }
    }
}

impl Idp {
    /// Queues a sign-in record; a background task writes it (with every other record queued
    /// meanwhile) in one transaction.
    pub(crate) async fn queue_sign_in(&self, entry: SignIn) {
        let writer = &self.sign_in_writer;
        let queued = {
            let mut q = writer.queue.lock().unwrap_or_else(|e| e.into_inner());
            q.push(entry);
            q.len()
        };
        if queued >= MAX_QUEUED {
            self.flush_sign_ins().await;
            return;
        }
        if !writer.draining.swap(true, Ordering::AcqRel) {
            let writer: Arc<SignInWriter> = writer.clone();
            let store = self.store.clone();
            // A task of its own: the write completes even if this request's future is dropped.
            tokio::spawn(async move { writer.drain(&store).await });
        }
    }

    /// Writes every queued sign-in record now (before listing the log, and at shutdown).
    pub async fn flush_sign_ins(&self) {
        let writer = &self.sign_in_writer;
        let _writing = writer.writing.lock().await;
        let batch = writer.take();
        SignInWriter::write(&self.store, &batch).await;
    }
}
