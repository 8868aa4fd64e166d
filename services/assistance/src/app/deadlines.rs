//! Each step's deadline, in working days of the holiday calendar (a year never loaded counts
//! weekends only), and the steps past it.
//!
//! The county decides within `decision` working days of a complete application (民发〔2021〕57号
//! 第二十四条: 自受理之日起30个工作日之内完成，特殊情况下可以延长至45个工作日; configurable);
//! the steps before it have their own, shorter deadlines, never later than the decision's. The
//! report after temporary assistance paid at once is due on the day recorded with the payment.
//! Deadlines are computed when asked, from the calendar as loaded then: a calendar loaded later
//! moves them, as it should.

use serde::Deserialize;
use time::Date;

use crate::{
    calendar::WorkingCalendar,
    case::{Case, Stage},
};

/// Working days each step may take (`[assistance]` settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Deadlines {
    /// From submission to the verification's result.
    pub verification: u32,
    /// From the verification's result to the township's review.
    pub township_review: u32,
    /// From the township's review to the notice.
    pub notice: u32,
    /// From submission (or a temporary application's transfer) to the county's decision.
    pub decision: u32,
    /// From a payment at once to its report (先行救助后补充报告).
    pub report: u32,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            verification: 10,
            township_review: 10,
            notice: 5,
            decision: 30,
            report: 5,
        }
    }
}

/// The step a case waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    /// `verification`, `township_review`, `notice`, `decision` or `report`.
    pub step: &'static str,
    pub due_on: Date,
}

impl Deadlines {
    /// The step `case` waits for and its deadline; `None` when it waits for nothing dated.
    pub fn pending(&self, case: &Case, calendar: &WorkingCalendar) -> Option<Pending> {
        let application = case.application.as_deref()?;
        let after = |from: Date, days: u32| calendar.add_working_days(from, days);
        let decision_due = after(application.submitted_on, self.decision);
        let step = |step: &'static str, due_on: Date| Pending {
            step,
            due_on: due_on.min(decision_due),
        };
        match case.stage {
            Stage::AwaitingVerification => Some(step(
                "verification",
                after(application.submitted_on, self.verification),
            )),
            Stage::AwaitingTownshipReview => Some(step(
                "township_review",
                after(case.verification_received_on?, self.township_review),
            )),
            Stage::AwaitingNotice => Some(step(
                "notice",
                after(case.township_reviewed_on?, self.notice),
            )),
            Stage::InNotice => Some(step("decision", decision_due)),
            Stage::AwaitingDecision => Some(Pending {
                step: "decision",
                due_on: after(
                    case.transferred_on.unwrap_or(application.submitted_on),
                    self.decision,
                ),
            }),
            Stage::AwaitingReport => Some(Pending {
                step: "report",
                due_on: case.report_due_on?,
            }),
            _ => None,
        }
    }

    /// The day a report on a payment made at once on `paid_on` is due.
    pub fn report_due(&self, paid_on: Date, calendar: &WorkingCalendar) -> Date {
        calendar.add_working_days(paid_on, self.report)
    }
}
