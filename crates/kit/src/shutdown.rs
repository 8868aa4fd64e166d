//! Process shutdown: SIGTERM (Kubernetes stopping a pod) and SIGINT (Ctrl-C) become the
//! cancellation of one [`CancellationToken`] that the server, the outbox relay and the consumers
//! all watch, so the binary stops accepting calls, finishes in-flight work, flushes the relay,
//! acks what is done and exits.
//!
//! This module deliberately knows nothing of what is being stopped; it only turns signals into a
//! token.

use std::io;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Listeners for the two shutdown signals, installed eagerly so that a signal that arrives
/// between installation and the first `await` is not lost (nor kills the process).
struct Signals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    /// Waits for the next signal and names it.
    async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.terminate.recv() => "SIGTERM",
                _ = self.interrupt.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            // Without Unix signals only Ctrl-C is available; if even that cannot be watched,
            // the process is stopped by other means and this never completes.
            match tokio::signal::ctrl_c().await {
                Ok(()) => "ctrl-c",
                Err(_) => std::future::pending().await,
            }
        }
    }
}

/// Completes when the process receives SIGTERM or SIGINT. If the signal handlers cannot be
/// installed, logs why and never completes (the process can still be killed).
pub async fn shutdown_signal() {
    match Signals::install() {
        Ok(mut signals) => {
            let signal = signals.recv().await;
            tracing::info!(signal, "shutdown requested");
        }
        Err(error) => {
            tracing::warn!(%error, "cannot listen for shutdown signals");
            std::future::pending::<()>().await;
        }
    }
}

/// Cancels `token` on the first SIGTERM or SIGINT. A second signal while shutting down exits
/// the process at once (status 130), for an operator who does not want to wait for the drain.
///
/// The handlers are installed before this returns, so a signal sent right after cannot be
/// missed. Once installed they replace the default action for the life of the process, so the
/// task keeps listening after the token is cancelled by anyone else: a signal then exits too.
/// The returned handle may be dropped.
pub fn cancel_on_signal(token: CancellationToken) -> io::Result<JoinHandle<()>> {
    let mut signals = Signals::install()?;
    Ok(tokio::spawn(async move {
        tokio::select! {
            signal = signals.recv() => {
                tracing::info!(signal, "shutdown requested; send the signal again to exit at once");
                token.cancel();
            }
            () = token.cancelled() => {}
        }
        let signal = signals.recv().await;
        tracing::warn!(signal, "second shutdown signal, exiting without draining");
        std::process::exit(130);
    }))
}

/// A fresh token cancelled on SIGTERM or SIGINT (see [`cancel_on_signal`]).
pub fn signal_token() -> io::Result<CancellationToken> {
    let token = CancellationToken::new();
    // Dropping the handle detaches the task; it lives as long as the runtime.
    drop(cancel_on_signal(token.clone())?);
    Ok(token)
}
