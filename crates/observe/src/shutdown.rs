//! [`Shutdown`]: one cloneable stop signal for every task of a process, fired by SIGINT/SIGTERM,
//! and the grace period that bounds how long stopping may take.
//!
//! A graceful stop waits for work in flight, but some work never ends by itself (a client may
//! hold a connection open for ever): [`Shutdown::grace_over`] is the deadline after which a
//! process stops waiting and exits anyway.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

/// A cloneable shutdown signal.
#[derive(Debug, Clone)]
pub struct Shutdown {
    rx: watch::Receiver<bool>,
}

/// Fires a [`Shutdown`].
#[derive(Debug)]
pub struct ShutdownTrigger {
    tx: watch::Sender<bool>,
}

impl ShutdownTrigger {
    /// Fires the signal.
    pub fn fire(&self) {
        let _ = self.tx.send(true);
    }
}

impl Shutdown {
    /// A signal and the trigger that fires it.
    pub fn new() -> (ShutdownTrigger, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (ShutdownTrigger { tx }, Shutdown { rx })
    }

    /// A signal fired by the first SIGINT or SIGTERM.
    pub fn on_signals() -> Shutdown {
        let (trigger, shutdown) = Self::new();
        tokio::spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            if let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
                tracing::info!("shutdown requested");
                trigger.fire();
            }
        });
        shutdown
    }

    /// Resolves when the signal fires (or its trigger is dropped).
    pub fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    }

    /// Resolves `grace` after the signal fires: the moment a stopping process gives up waiting
    /// for what is still open and exits.
    pub fn grace_over(&self, grace: Duration) -> impl Future<Output = ()> + Send + 'static {
        let fired = self.wait();
        async move {
            fired.await;
            tokio::time::sleep(grace).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_clone_sees_the_trigger() {
        let (trigger, shutdown) = Shutdown::new();
        let a = shutdown.wait();
        let b = shutdown.clone().wait();
        trigger.fire();
        a.await;
        b.await;
    }

    #[tokio::test]
    async fn the_grace_period_starts_when_the_signal_fires() {
        let grace = Duration::from_millis(200);
        let (trigger, shutdown) = Shutdown::new();
        let over = shutdown.grace_over(grace);
        tokio::pin!(over);
        // Not fired: longer than the grace period passes and it has not begun.
        let not_yet = tokio::time::timeout(grace * 2, &mut over).await;
        assert!(not_yet.is_err(), "grace over before the signal");
        trigger.fire();
        let start = tokio::time::Instant::now();
        over.await;
        assert!(start.elapsed() >= grace, "{:?}", start.elapsed());
    }
}
