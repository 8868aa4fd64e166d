//! Temporary assistance decided at the window where the hardship happened: a township's reserve
//! fund (临时救助备用金), paying at once up to the township's limit (先行救助, 民发〔2018〕23号:
//! 急难型临时救助重在"先行救助"; 国发〔2014〕47号: 紧急情况解除之后，应按规定补齐审核审批手续), the
//! report that follows, and the transfer of
//! what is above the limit to the county.
//!
//! A payment at once changes two streams, the township's fund and the case, in one transaction
//! (`commit_together`): both or neither. Concurrent payments from one fund conflict on its
//! version and are decided again on the new balance, so the fund never goes negative.

use minzheng_kit::{
    Error,
    aggregate::{
        Aggregate as _, CommandContext, Committed, commit_together, with_conflict_retries,
    },
};
use minzheng_types::{BoundedText, Fen, RegionCode};
use time::Date;

use super::Assistance;
use crate::{
    benefit::{self, Calculation},
    case::{self, Particulars},
    fund::{self, ReserveFund},
    ids::CaseId,
    policy::Policy,
};

/// Reload-and-decide rounds when another payment moved the fund first.
const CONFLICT_RETRIES: u32 = 16;

impl Assistance {
    /// Adds `amount` to `township`'s reserve fund today.
    pub async fn replenish_fund(
        &self,
        township: RegionCode,
        amount: Fen,
        reference: BoundedText,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let command = fund::Command::Replenish(fund::Replenish {
            township,
            amount,
            reference,
            on: self.today(),
        });
        let committed = self.funds.run(&township, &command, context).await?;
        self.view.nudge();
        Ok(committed)
    }

    /// `township`'s reserve fund as stored.
    pub async fn fund(&self, township: RegionCode) -> Result<ReserveFund, Error> {
        Ok(self.funds.load(&township).await?.state)
    }

    /// Pays temporary assistance `amount` at once from the fund of the township that took the
    /// application; the report is due `Deadlines::report` working days later.
    pub async fn pay_at_once(
        &self,
        id: &CaseId,
        amount: Fen,
        context: &CommandContext,
    ) -> Result<(Committed, Calculation, Date), Error> {
        let today = self.today();
        let outcome = with_conflict_retries(CONFLICT_RETRIES, || async {
            let case = self.cases.load(id).await?;
            let Some(application) = case.state.application.as_deref() else {
                return Ok(Err(Error::NotFound(format!("no case {id}"))));
            };
            let Particulars::Temporary { requested, .. } = &application.particulars else {
                return Ok(Err(Error::from_refusal(&case::CaseError::NotTemporary)));
            };
            let township = application.window;
            let county = case.state.county.unwrap_or(application.county);
            let (limit, report_due_on) = {
                let view = self.view.read().await;
                let empty = Policy::default();
                let limit = view
                    .policy(county)
                    .unwrap_or(&empty)
                    .temporary_aid_limit(township, today);
                (
                    limit,
                    self.deadlines.report_due(today, view.working_calendar()),
                )
            };
            let Some(limit) = limit else {
                return Ok(Err(Error::from_refusal(&benefit::Refusal::NoTownshipLimit)));
            };
            let calculation = match benefit::temporary(amount, *requested, Some(&limit)) {
                Ok(calculation) => calculation,
                Err(refusal) => return Ok(Err(Error::from_refusal(&refusal))),
            };
            let paid = case::Command::PayAtOnce {
                township,
                calculation: calculation.clone(),
                report_due_on,
                on: today,
            };
            let case_events = match case.state.handle(&paid) {
                Ok(events) => events,
                Err(refusal) => return Ok(Err(Error::from_refusal(&refusal))),
            };
            let fund = self.funds.load(&township).await?;
            let disburse = fund::Command::Disburse(fund::Disburse {
                case_id: *id,
                amount,
                limit: limit.value,
                on: today,
            });
            let fund_events = match fund.state.handle(&disburse) {
                Ok(events) => events,
                Err(refusal) => return Ok(Err(Error::from_refusal(&refusal))),
            };
            let decided = vec![
                self.cases.decided(id, case.version, &case_events)?,
                self.funds.decided(&township, fund.version, &fund_events)?,
            ];
            let committed = commit_together(&self.store, decided, context).await?;
            Ok(Ok((committed, calculation, report_due_on)))
        })
        .await??;
        self.view.nudge();
        let (committed, calculation, due) = outcome;
        let case = committed
            .into_iter()
            .next()
            .ok_or_else(|| Error::refused("already_paid", format!("case {id} is already paid")))?;
        Ok((case, calculation, due))
    }

    /// Records the report on a payment made at once, today.
    pub async fn report_temporary_aid(
        &self,
        id: &CaseId,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let on = self.today();
        self.run_case(id, case::Command::Report { on }, context)
            .await
    }

    /// Transfers a temporary-assistance application to the county, today.
    pub async fn transfer_temporary_aid(
        &self,
        id: &CaseId,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let on = self.today();
        self.run_case(id, case::Command::Transfer { on }, context)
            .await
    }
}
