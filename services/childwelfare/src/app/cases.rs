//! Protection cases: a report filed (the reporter sealed before the case is decided) or an alert
//! turned into a case, each step recorded, the reporter's identity opened for a need to know,
//! and the sweep that escalates overdue steps to the county.
//!
//! A case's id is drawn at random, except that a command with an idempotency key derives it
//! from the key (a keyed hash, so a retry addresses the same case and answers as the first) and
//! an alert's case derives it from the alert's id (so an alert delivered twice opens one case).

use minzheng_kit::{
    Error,
    aggregate::{CommandContext, Committed, RunError},
};
use minzheng_types::{BoundedText, CitizenId, RegionCode};
use time::Date;

use super::ChildWelfare;
use crate::{
    ids::{ALERT_CASE_DOMAIN, CaseId},
    protection::{self, Open, ProtectionCase, Reporter, ReporterKind, RiskLevel, Source},
    sealing::SealError,
};

/// The pseudonym domain of the escalation sweep's idempotency keys.
const ESCALATION_KEY_DOMAIN: &str = "childwelfare-escalation";

/// The pseudonym domain that turns a report's idempotency key into its case's id.
const REQUEST_CASE_DOMAIN: &str = "childwelfare-report-case";

/// A report as filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub child: CitizenId,
    pub division: RegionCode,
    pub risk: RiskLevel,
    pub reporter_kind: ReporterKind,
    pub reporter: Reporter,
    pub concern: BoundedText,
    pub reported_on: Date,
}

impl ChildWelfare {
    fn case_id_for(&self, context: &CommandContext) -> CaseId {
        match &context.idempotency_key {
            Some(key) => {
                let actor = context.actor.as_deref().unwrap_or_default();
                let id = self
                    .pseudonyms
                    .of_text(REQUEST_CASE_DOMAIN, &format!("{actor}\n{key}"));
                CaseId::parse(&id).unwrap_or_else(|_| CaseId::draw())
            }
            None => CaseId::draw(),
        }
    }

    /// Files a report and opens its case: the case's id and the day emergency handling is due.
    pub async fn file_report(
        &self,
        report: Report,
        context: &CommandContext,
    ) -> Result<(CaseId, Date, Committed), Error> {
        self.not_future("reported_on", report.reported_on)?;
        let case = self.case_id_for(context);
        let due = protection::due_after(
            report.reported_on,
            self.deadlines.emergency_days(report.risk),
        );
        let sealed = self
            .sealer
            .seal(&case, &report.reporter)
            .map_err(|e| Error::internal(anyhow::anyhow!(e)))?;
        let open = Open {
            case: case.clone(),
            child: report.child,
            division: report.division,
            risk: report.risk,
            source: Source::MandatoryReport {
                reporter: sealed,
                reporter_kind: report.reporter_kind,
            },
            concern: report.concern,
            reported_on: report.reported_on,
        };
        // A new case: one round trip, not a read and a write.
        let committed = self
            .cases
            .execute_new(&case, &protection::Command::Open(open), context)
            .await?
            .map_err(|refusal| Error::from_refusal(&refusal))?;
        // The read model is not nudged: reports come in bursts (a school term's start, a
        // campaign), and a catch-up per report would read the store once per report. The view
        // follows within its poll, and a list that names this report's position waits for it.
        Ok((case, due, committed))
    }

    /// Opens the case of a data-sharing alert (a minor whose guardians have all died); an alert
    /// delivered again records nothing.
    pub async fn open_from_alert(
        &self,
        alert_id: &str,
        child: CitizenId,
        division: RegionCode,
        concern: BoundedText,
        on: Date,
        context: &CommandContext,
    ) -> Result<(CaseId, Committed), Error> {
        let case = CaseId::parse(&self.pseudonyms.of_text(ALERT_CASE_DOMAIN, alert_id))
            .unwrap_or_else(|_| unreachable!("a pseudonym is always 32 lowercase hex digits"));
        let open = Open {
            case: case.clone(),
            child,
            division,
            risk: RiskLevel::High,
            source: Source::Alert {
                alert_id: alert_id.to_owned(),
            },
            concern,
            reported_on: on,
        };
        let committed = self
            .cases
            .run(&case, &protection::Command::Open(open), context)
            .await?;
        self.written(&committed);
        Ok((case, committed))
    }

    /// Runs a command on a case; NOT_FOUND when there is no such case.
    pub async fn case_command(
        &self,
        case: &CaseId,
        command: protection::Command,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let committed = self.cases.run(case, &command, context).await?;
        self.written(&committed);
        Ok(committed)
    }

    /// One case; NOT_FOUND when there is none.
    pub async fn case(&self, case: &CaseId) -> Result<ProtectionCase, Error> {
        let state = self.cases.load(case).await?.state;
        if !state.is_opened() {
            return Err(Error::NotFound("there is no such case".to_owned()));
        }
        Ok(state)
    }

    /// The identity of the case's reporter, opened; NOT_FOUND when an alert opened the case.
    /// The caller has checked the need to know and audits the access.
    pub async fn reporter(&self, case: &CaseId) -> Result<(Reporter, ReporterKind), Error> {
        let state = self.case(case).await?;
        let (Some(sealed), Some(protection::SourceKind::Report(kind))) =
            (state.reporter_for_need_to_know(), state.source_kind())
        else {
            return Err(Error::NotFound(
                "the case was opened from an alert: it has no reporter".to_owned(),
            ));
        };
        let reporter = self.sealer.open(case, sealed).map_err(|e| match e {
            // Another key (a deployment whose reporter key was changed) is a setup fault.
            SealError::DoesNotOpen => Error::Unavailable(
                "the reporter cannot be opened with this service's reporter key".to_owned(),
            ),
            other => Error::internal(anyhow::anyhow!(other)),
        })?;
        Ok((reporter, kind))
    }

    /// Escalates every step overdue today and not yet escalated for its due day; how many.
    pub async fn escalate_overdue(&self) -> Result<usize, Error> {
        self.view.catch_up().await?;
        let today = self.today();
        let known = self.divisions.known().await.map_err(RunError::from)?;
        let due = self
            .view
            .read()
            .await
            .to_escalate(today, &self.deadlines, |code| {
                minzheng_host::divisions::current(&known, code, today)
            });
        let mut escalated = 0;
        for (case, step, due_on, county) in due {
            let command = protection::Command::Escalate {
                step,
                due_on,
                county,
                on: today,
                deadlines: self.deadlines,
            };
            // Keyed by the step and its due day, through a keyed hash a client cannot guess, so
            // no client command can take the escalation's key before the sweep does.
            let key = self
                .pseudonyms
                .of_text(ESCALATION_KEY_DOMAIN, &format!("{case}/{step:?}/{due_on}"));
            let context = CommandContext::new().with_idempotency_key(format!("escalate-{key}"));
            let committed = self.cases.run(&case, &command, &context).await?;
            if committed.position > 0 {
                escalated += 1;
            }
        }
        if escalated > 0 {
            self.view.nudge();
        }
        Ok(escalated)
    }
}
