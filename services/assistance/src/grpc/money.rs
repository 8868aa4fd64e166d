//! The RPCs of standards and calendars, township reserve funds and temporary assistance paid at
//! once, and the monthly payment cycles.

use minzheng_host::{
    codec::ToMessage as _,
    decode::Decoder,
    edge::{self, Call},
    fields::Fields as _,
};
use minzheng_kit::{Error, aggregate::CodecError};
use minzheng_proto::{
    assistance::v1::{self as pb, record_standard_request::Standard as RequestStandard},
    common::v1 as common,
};
use minzheng_types::{FieldViolation, RegionLevel, Violations};

use super::{AssistanceApi, cases::case_id, household};
use crate::{
    calendar::LoadYear,
    codec::policy::{calculation_to_pb, standard_from_pb, version_to_pb},
    cycle::{CycleTotals, Status},
    ids::{CalendarYear, CaseId, CycleId},
    policy::Standard,
};

/// Longest document reference.
const REFERENCE_MAX_CHARS: usize = 100;

fn totals_to_pb(t: &CycleTotals) -> pb::CycleTotals {
    pb::CycleTotals {
        generated_count: t.generated.count,
        generated_total: Some(t.generated.amount.into()),
        paid_count: t.paid.count,
        paid_total: Some(t.paid.amount.into()),
        failed_count: t.failed.count,
        failed_total: Some(t.failed.amount.into()),
        pending_count: t.pending.count,
        pending_total: Some(t.pending.amount.into()),
    }
}

/// A standard as a request gives it: the shape checks of the stored form, each problem named
/// by its field (`dibao.amount`, …).
fn standard(violations: &mut Violations, value: &Option<RequestStandard>) -> Option<Standard> {
    use minzheng_proto::assistance::v1::standard_recorded::Standard as S;
    let Some(value) = value.clone() else {
        violations.push(
            "standard",
            "must be one of dibao, mode, low_income_multiplier, extreme_poverty, \
             temporary_aid_limit, heating",
        );
        return None;
    };
    let stored = match value {
        RequestStandard::Dibao(s) => S::Dibao(s),
        RequestStandard::Mode(s) => S::Mode(s),
        RequestStandard::LowIncomeMultiplier(s) => S::LowIncomeMultiplier(s),
        RequestStandard::ExtremePoverty(s) => S::ExtremePoverty(s),
        RequestStandard::TemporaryAidLimit(s) => S::TemporaryAidLimit(s),
        RequestStandard::Heating(s) => S::Heating(s),
    };
    let decoder = Decoder::new("minzheng.assistance.v1.RecordStandardRequest", 1, 1).ok()?;
    match standard_from_pb(&decoder, stored) {
        Ok(standard) => Some(standard),
        Err(CodecError::Invalid { reason, .. }) => {
            let (field, rule) = reason.split_once(": ").unwrap_or(("standard", &reason));
            violations.add(FieldViolation::new(field, rule));
            None
        }
        Err(other) => {
            violations.push("standard", other.to_string());
            None
        }
    }
}

fn township(
    violations: &mut Violations,
    value: &Option<common::RegionCode>,
) -> Option<minzheng_types::RegionCode> {
    let code = violations.region("township", value)?;
    if code.level() == RegionLevel::Township {
        Some(code)
    } else {
        violations.push("township.code", "must be a township-level division");
        None
    }
}

fn county(
    violations: &mut Violations,
    value: &Option<common::RegionCode>,
) -> Option<minzheng_types::RegionCode> {
    let code = violations.region("county", value)?;
    if code.level() == RegionLevel::County {
        Some(code)
    } else {
        violations.push("county.code", "must be a county-level division");
        None
    }
}

fn cycle_id(violations: &mut Violations, value: &str) -> Option<CycleId> {
    violations.id("cycle_id", value, CycleId::parse)
}

impl AssistanceApi {
    pub(super) async fn record_standard(
        &self,
        call: Call<pb::RecordStandardRequest>,
    ) -> Result<pb::RecordStandardResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let county = county(&mut violations, &body.county);
        let standard = standard(&mut violations, &body.standard);
        let effective_from = violations.date("effective_from", &body.effective_from);
        let decided_by = violations.text("decided_by", &body.decided_by, REFERENCE_MAX_CHARS);
        let (county, standard, effective_from, decided_by) =
            violations.finish((county, standard, effective_from, decided_by))?;
        call.require_region(county)?;
        let (committed, version, changed) = self
            .app
            .record_standard(county, standard, effective_from, decided_by, &context)
            .await?;
        Ok(pb::RecordStandardResponse {
            result: Some(edge::result(&committed)),
            version: version.map(|v| version_to_pb(v.version)),
            recalculated_cases: changed,
        })
    }

    pub(super) async fn list_standards(
        &self,
        call: Call<pb::ListStandardsRequest>,
    ) -> Result<pb::ListStandardsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let county = county(&mut violations, &body.county);
        let county = violations.finish(county)?;
        self.app
            .caught_up(edge::min_position(&body.read), call.deadline())
            .await?;
        Ok(pb::ListStandardsResponse {
            versions: self
                .app
                .standards_of(county)
                .await
                .iter()
                .map(|v| v.to_message())
                .collect(),
        })
    }

    pub(super) async fn load_holiday_calendar(
        &self,
        call: Call<pb::LoadHolidayCalendarRequest>,
    ) -> Result<pb::LoadHolidayCalendarResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        if !(2000..=2100).contains(&body.year) {
            violations.push("year", "must be a year from 2000 to 2100");
        }
        let dates = |field: &str, values: &[common::Date], violations: &mut Violations| {
            values
                .iter()
                .enumerate()
                .map(|(i, d)| violations.date(&format!("{field}[{i}]"), &Some(*d)))
                .collect::<Option<Vec<_>>>()
        };
        let holidays = dates("holidays", &body.holidays, &mut violations);
        let working_days = dates("working_days", &body.working_days, &mut violations);
        let source = violations.text("source", &body.source, REFERENCE_MAX_CHARS);
        let (holidays, working_days, source) =
            violations.finish((holidays, working_days, source))?;
        let committed = self
            .app
            .load_calendar(
                LoadYear {
                    year: CalendarYear(body.year),
                    holidays,
                    working_days,
                    source,
                    loaded_on: self.app.today(),
                },
                &context,
            )
            .await?;
        Ok(pb::LoadHolidayCalendarResponse {
            result: Some(edge::result(&committed)),
        })
    }

    pub(super) async fn replenish_reserve_fund(
        &self,
        call: Call<pb::ReplenishReserveFundRequest>,
    ) -> Result<pb::ReplenishReserveFundResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let township = township(&mut violations, &body.township);
        let amount = household::money(&mut violations, "amount", &body.amount);
        let reference = violations.text("reference", &body.reference, REFERENCE_MAX_CHARS);
        let (township, amount, reference) = violations.finish((township, amount, reference))?;
        call.require_region(township)?;
        let committed = self
            .app
            .replenish_fund(township, amount, reference, &context)
            .await?;
        Ok(pb::ReplenishReserveFundResponse {
            result: Some(edge::result(&committed)),
        })
    }

    pub(super) async fn get_reserve_fund(
        &self,
        call: Call<pb::GetReserveFundRequest>,
    ) -> Result<pb::GetReserveFundResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let township = township(&mut violations, &body.township);
        let township = violations.finish(township)?;
        call.require_region(township)?;
        self.app
            .caught_up(edge::min_position(&body.read), call.deadline())
            .await?;
        let fund = self.app.fund(township).await?;
        Ok(pb::GetReserveFundResponse {
            balance: Some(fund.balance().into()),
            established: fund.is_established(),
            replenished: Some(fund.total_replenished().into()),
            disbursements: u32::try_from(fund.disbursements().count()).unwrap_or(u32::MAX),
        })
    }

    pub(super) async fn pay_temporary_aid_at_once(
        &self,
        call: Call<pb::PayTemporaryAidAtOnceRequest>,
    ) -> Result<pb::PayTemporaryAidAtOnceResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = case_id(&mut violations, &body.case_id);
        let amount = household::money(&mut violations, "amount", &body.amount);
        let (id, amount) = violations.finish((id, amount))?;
        self.case_at_window(&call, &id).await?;
        let (committed, calculation, due) = self.app.pay_at_once(&id, amount, &context).await?;
        Ok(pb::PayTemporaryAidAtOnceResponse {
            result: Some(edge::result(&committed)),
            calculation: Some(calculation_to_pb(&calculation)),
            report_due_on: Some(due.into()),
        })
    }

    pub(super) async fn report_temporary_aid(
        &self,
        call: Call<pb::ReportTemporaryAidRequest>,
    ) -> Result<pb::ReportTemporaryAidResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = case_id(&mut violations, &body.case_id);
        let id = violations.finish(id)?;
        self.case_at_window(&call, &id).await?;
        let committed = self.app.report_temporary_aid(&id, &context).await?;
        Ok(pb::ReportTemporaryAidResponse {
            result: Some(edge::result(&committed)),
        })
    }

    pub(super) async fn transfer_temporary_aid(
        &self,
        call: Call<pb::TransferTemporaryAidRequest>,
    ) -> Result<pb::TransferTemporaryAidResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = case_id(&mut violations, &body.case_id);
        let id = violations.finish(id)?;
        self.case_at_window(&call, &id).await?;
        let committed = self.app.transfer_temporary_aid(&id, &context).await?;
        Ok(pb::TransferTemporaryAidResponse {
            result: Some(edge::result(&committed)),
        })
    }

    pub(super) async fn generate_payment_cycle(
        &self,
        call: Call<pb::GeneratePaymentCycleRequest>,
    ) -> Result<pb::GeneratePaymentCycleResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let county = county(&mut violations, &body.county);
        let month = violations.date("month", &body.month);
        let (county, month) = violations.finish((county, month))?;
        call.require_region(county)?;
        let (committed, id, totals) = self.app.generate_cycle(county, month, &context).await?;
        Ok(pb::GeneratePaymentCycleResponse {
            result: Some(edge::result(&committed)),
            cycle_id: id.to_string(),
            totals: Some(totals_to_pb(&totals)),
        })
    }

    pub(super) async fn approve_payment_cycle(
        &self,
        call: Call<pb::ApprovePaymentCycleRequest>,
    ) -> Result<pb::ApprovePaymentCycleResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = cycle_id(&mut violations, &body.cycle_id);
        let id = violations.finish(id)?;
        call.require_region(id.county())?;
        let committed = self.app.approve_cycle(&id, &context).await?;
        Ok(pb::ApprovePaymentCycleResponse {
            result: Some(edge::result(&committed)),
        })
    }

    pub(super) async fn export_payment_cycle(
        &self,
        call: Call<pb::ExportPaymentCycleRequest>,
    ) -> Result<pb::ExportPaymentCycleResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = cycle_id(&mut violations, &body.cycle_id);
        let id = violations.finish(id)?;
        call.audit("payment_cycle", id.to_string());
        call.require_region(id.county())?;
        let (committed, file) = self.app.export_cycle(&id, &context).await?;
        let totals = CycleTotals {
            generated: file.totals,
            ..Default::default()
        };
        Ok(pb::ExportPaymentCycleResponse {
            result: Some(edge::result(&committed)),
            sha256: file.sha256.to_string(),
            file: file.bytes.clone(),
            totals: Some(totals_to_pb(&totals)),
        })
    }

    pub(super) async fn import_payment_results(
        &self,
        call: Call<pb::ImportPaymentResultsRequest>,
    ) -> Result<pb::ImportPaymentResultsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = cycle_id(&mut violations, &body.cycle_id);
        if body.file.is_empty() {
            violations.push("file", "is required: the bank's result file");
        }
        let id = violations.finish(id)?;
        call.require_region(id.county())?;
        let (committed, totals) = self.app.import_results(&id, &body.file, &context).await?;
        Ok(pb::ImportPaymentResultsResponse {
            result: Some(edge::result(&committed)),
            totals: Some(totals_to_pb(&totals)),
        })
    }

    pub(super) async fn get_payment_cycle(
        &self,
        call: Call<pb::GetPaymentCycleRequest>,
    ) -> Result<pb::GetPaymentCycleResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let id = cycle_id(&mut violations, &body.cycle_id);
        let id = violations.finish(id)?;
        call.require_region(id.county())?;
        self.app
            .caught_up(edge::min_position(&body.read), call.deadline())
            .await?;
        let cycle = self.app.cycle(&id).await?;
        Ok(pb::GetPaymentCycleResponse {
            status: match cycle.status() {
                None => pb::CycleStatus::Unspecified,
                Some(Status::Generated) => pb::CycleStatus::Generated,
                Some(Status::Approved) => pb::CycleStatus::Approved,
                Some(Status::Exported) => pb::CycleStatus::Exported,
                Some(Status::Settled) => pb::CycleStatus::Settled,
            }
            .into(),
            totals: Some(totals_to_pb(&cycle.totals())),
            failed: cycle
                .failed_lines()
                .map(|f| pb::PaymentLineRef {
                    cycle_id: f.cycle.to_string(),
                    line_no: f.line.line_no,
                })
                .collect(),
        })
    }

    /// Checks the caller's scope against the window township of a temporary-assistance case
    /// (where the hardship happened and its fund pays), as stored: the view may not show yet a
    /// case submitted a moment ago, and a payment made at once follows its submission at once.
    async fn case_at_window<T>(&self, call: &Call<T>, id: &CaseId) -> Result<(), Error> {
        let case = self.app.stored_case(id).await?;
        let window = case
            .application
            .as_ref()
            .map(|a| a.window)
            .ok_or_else(|| Error::NotFound(format!("no case {id}")))?;
        call.require_region(window)
    }
}
