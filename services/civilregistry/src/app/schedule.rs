//! What happens because days pass: appointments nobody came to become no-shows, and divorce
//! applications nobody came back for lapse (视为撤回). The schedulers issue commands with
//! today's date; they run at start and then periodically, so a lapse the service slept
//! through (down on the day) happens at the next start.

use minzheng_kit::{Error, aggregate::CommandContext};

use super::CivilRegistry;
use crate::registry_day;

/// What one pass of the schedulers did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepSummary {
    pub lapsed_applications: usize,
    pub days_closed: usize,
}

impl CivilRegistry {
    /// Lapses every pending divorce application whose last day to register has passed, and
    /// records the no-shows of every past day with appointments still waiting.
    pub async fn sweep(&self) -> Result<SweepSummary, Error> {
        self.view.catch_up().await?;
        let today = self.today();
        let (lapsed, days) = {
            let view = self.view.read().await;
            (
                view.lapsed_by(today),
                view.days_with_waiting_appointments(today),
            )
        };
        let mut summary = SweepSummary::default();
        for application in &lapsed {
            if self.expire_divorce(application).await?.is_some() {
                summary.lapsed_applications += 1;
                tracing::info!(%application, "divorce application lapsed");
            }
        }
        for key in &days {
            let context =
                CommandContext::new().with_idempotency_key(format!("no-shows:{key}:{today}"));
            let command =
                registry_day::Command::RecordNoShows(registry_day::RecordNoShows { as_of: today });
            match self.days.execute(key, &command, &context).await? {
                Ok(committed) => {
                    self.written(std::slice::from_ref(&committed));
                    summary.days_closed += 1;
                }
                Err(refusal) => {
                    tracing::warn!(day = %key, rule = %minzheng_kit::aggregate::DomainError::rule(&refusal), "recording no-shows refused");
                }
            }
        }
        Ok(summary)
    }
}
