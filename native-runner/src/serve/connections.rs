//! The connections of `ipclab serve`: how many are open, when each last made progress, and which one
//! to close when room is needed.
//!
//! Progress is a byte read from or written to the client ([`Tracked`] records it). Two rules use it:
//! - a connection that makes no progress for the idle timeout is closed, so an idle client cannot hold
//!   a descriptor and its buffers forever (hyper separately limits how long a request head may take);
//! - at the connection cap, each new client makes room by closing the connection that has gone longest
//!   without progress ([`Tracker::close_stalest`]): an idle keep-alive connection, or one that never
//!   sent a request. A client that is being served makes progress all the time, so it is the last to
//!   go, and a new client is always served rather than refused.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

/// Every open connection and its progress.
pub struct Tracker {
    epoch: Instant,
    next_id: AtomicU64,
    connections: Mutex<HashMap<u64, Arc<Activity>>>,
}

/// One connection's progress, and the request to close it.
pub struct Activity {
    /// Milliseconds from the tracker's epoch to the last byte read or written.
    last_progress_ms: AtomicU64,
    /// Set once the connection has been asked to close.
    closing: AtomicBool,
    close: Notify,
}

/// A connection's place in the [`Tracker`], given up when dropped (when the connection ends).
pub struct Registration {
    tracker: Arc<Tracker>,
    id: u64,
    activity: Arc<Activity>,
}

impl Tracker {
    pub fn new() -> Arc<Tracker> {
        Arc::new(Tracker { epoch: Instant::now(), next_id: AtomicU64::new(0), connections: Mutex::new(HashMap::new()) })
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Activity>>> {
        // A panic elsewhere cannot leave the map half-changed: every change is one insert or remove.
        self.connections.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Connections open now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Counts a new connection, which has just made progress (it connected).
    pub fn register(self: &Arc<Self>) -> Registration {
        let activity = Arc::new(Activity {
            last_progress_ms: AtomicU64::new(self.now_ms()),
            closing: AtomicBool::new(false),
            close: Notify::new(),
        });
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, activity.clone());
        Registration { tracker: self.clone(), id, activity }
    }

    /// Asks the connection that has gone longest without progress to close at once. False when every
    /// connection is already closing.
    pub fn close_stalest(&self) -> bool {
        let connections = self.lock();
        let stalest = connections
            .values()
            .filter(|activity| !activity.closing.load(Ordering::Relaxed))
            .min_by_key(|activity| activity.last_progress_ms.load(Ordering::Relaxed));
        match stalest {
            Some(activity) => {
                activity.closing.store(true, Ordering::Relaxed);
                activity.close.notify_one();
                true
            }
            None => false,
        }
    }

    /// Completes once `activity` has made no progress for `timeout`.
    async fn idle_for(&self, activity: &Activity, timeout: Duration) {
        loop {
            let last = activity.last_progress_ms.load(Ordering::Relaxed);
            tokio::time::sleep_until(self.epoch + Duration::from_millis(last) + timeout).await;
            if activity.last_progress_ms.load(Ordering::Relaxed) == last {
                return;
            }
        }
    }
}

impl Registration {
    /// Completes when [`Tracker::close_stalest`] picked this connection.
    pub async fn close_requested(&self) {
        self.activity.close.notified().await;
    }

    /// Completes once this connection has made no progress for `timeout`.
    pub async fn idle_for(&self, timeout: Duration) {
        self.tracker.idle_for(&self.activity, timeout).await;
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.tracker.lock().remove(&self.id);
    }
}

/// A client's stream that records every byte of progress in its connection's [`Activity`].
pub struct Tracked<S> {
    stream: S,
    tracker: Arc<Tracker>,
    activity: Arc<Activity>,
}

impl<S> Tracked<S> {
    pub fn new(stream: S, registration: &Registration) -> Tracked<S> {
        Tracked { stream, tracker: registration.tracker.clone(), activity: registration.activity.clone() }
    }

    fn progress(&self) {
        self.activity.last_progress_ms.store(self.tracker.now_ms(), Ordering::Relaxed);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(mut self: Pin<&mut Self>, context: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(context, buf);
        // End of file counts too: the client did something, and the connection ends on it.
        if matches!(polled, Poll::Ready(Ok(()))) && (buf.filled().len() > before || buf.remaining() > 0) {
            self.progress();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(mut self: Pin<&mut Self>, context: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(context, data);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.progress();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(context, data);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.progress();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_longest_without_progress_is_closed_first() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
        runtime.block_on(async {
            let tracker = Tracker::new();
            let oldest = tracker.register();
            tokio::time::advance(Duration::from_millis(10)).await;
            let newer = tracker.register();
            tokio::time::advance(Duration::from_millis(10)).await;
            // The oldest makes progress now: the newer one is the stalest.
            oldest.activity.last_progress_ms.store(tracker.now_ms(), Ordering::Relaxed);
            assert_eq!(tracker.len(), 2);
            assert!(tracker.close_stalest());
            assert!(newer.activity.closing.load(Ordering::Relaxed));
            newer.close_requested().await;
            assert!(tracker.close_stalest());
            assert!(oldest.activity.closing.load(Ordering::Relaxed));
            assert!(!tracker.close_stalest(), "both are closing already");
            drop(newer);
            assert_eq!(tracker.len(), 1);
        });
    }

    #[test]
    fn idleness_is_measured_from_the_last_progress() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
        runtime.block_on(async {
            let tracker = Tracker::new();
            let connection = tracker.register();
            let started = Instant::now();
            let watcher = {
                let tracker = tracker.clone();
                let activity = connection.activity.clone();
                tokio::spawn(async move { tracker.idle_for(&activity, Duration::from_secs(30)).await })
            };
            tokio::time::advance(Duration::from_secs(20)).await;
            connection.activity.last_progress_ms.store(tracker.now_ms(), Ordering::Relaxed);
            watcher.await.unwrap();
            assert_eq!(started.elapsed(), Duration::from_secs(50), "30 s after the progress at 20 s");
        });
    }
}
