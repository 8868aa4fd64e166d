//! Readiness that tells the truth: a service whose outbox relay cannot publish reports
//! NOT_SERVING to health checks (what Kubernetes' readiness probe asks), with the reason in the
//! log and in `PlatformService.GetInfo`, and SERVING again by itself once the relay recovers.
//!
//! Commands are still accepted meanwhile (they are safe in the store and go out when the relay
//! recovers); NOT_SERVING says that this replica's events are not reaching anyone, which an
//! SRE must see rather than a green probe.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use minzheng_bus::RelayState;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tonic_health::{ServingStatus, server::HealthReporter};
use tracing::{info, warn};

/// Why each hosted service is not ready, by service name; shared with `GetInfo`.
#[derive(Debug, Clone, Default)]
pub(crate) struct NotReady(Arc<Mutex<BTreeMap<&'static str, String>>>);

impl NotReady {
    /// The reason `service` is not ready, if it is not.
    pub fn reason(&self, service: &str) -> Option<String> {
        self.lock().get(service).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, String>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records `service`'s trouble (or its recovery); true when the process as a whole is ready.
    fn set(&self, service: &'static str, trouble: Option<String>) -> bool {
        let mut reasons = self.lock();
        match trouble {
            Some(reason) => reasons.insert(service, reason),
            None => reasons.remove(service),
        };
        reasons.is_empty()
    }
}

/// Follows one service's relay and keeps the process's overall health status (the empty
/// service name, which probes ask) in line, until `stop` fires (shutdown takes over the status
/// then).
pub(crate) async fn follow_relay(
    service: &'static str,
    mut relay: watch::Receiver<RelayState>,
    not_ready: NotReady,
    health: HealthReporter,
    stop: CancellationToken,
) {
    let mut reported: Option<String> = None;
    loop {
        let trouble = relay.borrow_and_update().trouble.clone();
        if trouble != reported {
            match &trouble {
                Some(reason) => warn!(service, reason, "service not ready"),
                None => info!(service, "service ready again"),
            }
            let ready = not_ready.set(service, trouble.clone());
            if stop.is_cancelled() {
                return;
            }
            let status = if ready {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            health.set_service_status("", status).await;
            reported = trouble;
        }
        tokio::select! {
            changed = relay.changed() => if changed.is_err() { return },
            () = stop.cancelled() => return,
        }
    }
}
