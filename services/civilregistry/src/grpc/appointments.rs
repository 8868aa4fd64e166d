//! The appointment RPCs (预约登记): publishing and listing a registry's slots, booking,
//! rescheduling, cancelling, checking in and reading appointments; the registries and their
//! counselling rooms (婚姻家庭辅导室); and the plan's indicators.
//!
//! Commands are scoped to the registry they concern: the request's registry, or for an
//! appointment the registry its id names. `ListSlots`, `ListRegistries` and `GetIndicators`
//! are public (they carry no personal data).

use std::collections::HashSet;

use minzheng_host::edge::{self, Call, result};
use minzheng_host::fields::Fields as _;
use minzheng_kit::{Error, aggregate::CommandContext};
use minzheng_proto::common::v1 as common;
use minzheng_types::{CitizenId, FieldViolation, Violations, field_path};

use super::{CivilRegistryApi, pb, registry};
use crate::{
    app::indicators::{IndicatorSet, RegistryInfo},
    codec,
    ids::AppointmentId,
    registry_day::{self, Appointment, AppointmentState, Service, SlotId},
};

/// A required slot id ("HHMM").
fn slot_id(field: &str, value: &str, violations: &mut Violations) -> Option<SlotId> {
    if value.is_empty() {
        violations.add(FieldViolation::required(field));
        return None;
    }
    violations.check(field, SlotId::parse(value))
}

/// Most slots a day can have: one per minute.
const MAX_SLOTS: usize = 24 * 60;

/// The slots to publish: at least one, each with a valid id given once and a capacity of 1 to
/// 100.
fn slots(
    field: &str,
    values: &[pb::Slot],
    violations: &mut Violations,
) -> Option<Vec<(SlotId, u16)>> {
    if values.is_empty() {
        violations.push(field, "must give at least one slot");
        return None;
    }
    if values.len() > MAX_SLOTS {
        // Not one violation per element: a huge request would get a huge answer.
        violations.push(
            field,
            format!("must give at most {MAX_SLOTS} slots, one per minute"),
        );
        return None;
    }
    let mut parsed = Vec::with_capacity(values.len());
    let mut seen = HashSet::with_capacity(values.len());
    let mut ok = true;
    for (index, value) in values.iter().enumerate() {
        let at = format!("{field}[{index}]");
        let id = slot_id(&field_path(&at, "slot_id"), &value.slot_id, violations);
        if let Some(id) = id
            && !seen.insert(id)
        {
            violations.push(
                field_path(&at, "slot_id"),
                format!("slot {id} is given twice"),
            );
            ok = false;
        }
        let capacity = u16::try_from(value.capacity)
            .ok()
            .filter(|c| registry_day::CAPACITY.contains(c));
        if capacity.is_none() {
            violations.push(
                field_path(&at, "capacity"),
                format!(
                    "must be from {} to {}",
                    registry_day::CAPACITY.start(),
                    registry_day::CAPACITY.end()
                ),
            );
        }
        match (id, capacity) {
            (Some(id), Some(capacity)) => parsed.push((id, capacity)),
            _ => ok = false,
        }
    }
    ok.then_some(parsed)
}

/// A required appointment service.
fn service(field: &str, value: i32, violations: &mut Violations) -> Option<Service> {
    let service = codec::appointments::service_from_pb(value);
    if service.is_none() {
        violations.push(
            field,
            "must be MARRIAGE, DIVORCE_APPLICATION, DIVORCE_REGISTRATION or CERTIFICATE_REISSUE",
        );
    }
    service
}

/// The people an appointment names: as many as `service` needs (when it is known), each a
/// valid citizen id, no one twice. Violations never repeat an id.
fn parties(
    field: &str,
    values: &[common::CitizenRef],
    service: Option<Service>,
    violations: &mut Violations,
) -> Option<Vec<CitizenId>> {
    if values.is_empty() {
        violations.add(FieldViolation::required(field));
        return None;
    }
    let most = Service::ALL.iter().map(|s| s.parties()).max().unwrap_or(2);
    if values.len() > most {
        // Not one violation per element: a huge request would get a huge answer.
        violations.push(
            field,
            format!("must name at most {most} people, not {}", values.len()),
        );
        return None;
    }
    let mut ok = true;
    if let Some(service) = service
        && values.len() != service.parties()
    {
        violations.push(
            field,
            format!(
                "an appointment for {} names {} {}, not {}",
                service.as_str(),
                service.parties(),
                if service.parties() == 1 {
                    "person"
                } else {
                    "people"
                },
                values.len()
            ),
        );
        ok = false;
    }
    let mut parsed: Vec<CitizenId> = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        let at = format!("{field}[{index}]");
        // A repeated element is present even when empty: its `citizen_id` is what is missing.
        match violations.citizen(&at, &Some(value.clone())) {
            Some(id) => {
                if let Some(first) = parsed.iter().position(|seen| *seen == id) {
                    violations.push(
                        field_path(&at, "citizen_id"),
                        format!("names the same person as {field}[{first}]"),
                    );
                    ok = false;
                }
                parsed.push(id);
            }
            None => ok = false,
        }
    }
    ok.then_some(parsed)
}

fn state_to_pb(state: AppointmentState) -> pb::AppointmentState {
    match state {
        AppointmentState::Booked => pb::AppointmentState::Booked,
        AppointmentState::CheckedIn => pb::AppointmentState::CheckedIn,
        AppointmentState::Cancelled => pb::AppointmentState::Cancelled,
        AppointmentState::NoShow => pb::AppointmentState::NoShow,
    }
}

fn appointment_message(appointment: &Appointment) -> pb::Appointment {
    pb::Appointment {
        appointment_id: appointment.id.to_string(),
        registry: Some(appointment.id.registry().into()),
        day: Some(appointment.id.day().into()),
        slot_id: appointment.slot.to_string(),
        service: codec::appointments::service_to_pb(appointment.service).into(),
        parties: appointment.parties.iter().map(Into::into).collect(),
        state: state_to_pb(appointment.state).into(),
        rescheduled_to: appointment
            .rescheduled_to
            .map(|id| id.to_string())
            .unwrap_or_default(),
        rescheduled_from: appointment
            .rescheduled_from
            .map(|id| id.to_string())
            .unwrap_or_default(),
    }
}

fn registry_message(info: RegistryInfo) -> pb::Registry {
    pb::Registry {
        registry: Some(info.registry.into()),
        name: info.name,
        counselling_room: info.counselling_room,
    }
}

fn indicator_message(set: IndicatorSet) -> pb::IndicatorSet {
    pb::IndicatorSet {
        region: set.region.map(Into::into),
        eco_burial_rate_bp: set.eco_burial_rate_bp(),
        counselling_coverage_bp: set.counselling_coverage_bp(),
        name: set.name,
        burials: set.burials,
        eco_burials: set.eco_burials,
        registries: set.registries,
        registries_with_counselling_room: set.registries_with_counselling_room,
    }
}

/// The common path of the commands on one appointment (cancel, check in): the context and the
/// id, the caller's scope checked on the appointment's registry.
fn appointment_command<T>(
    call: &Call<T>,
    metadata: &Option<common::CommandMetadata>,
    id: &str,
) -> Result<(CommandContext, AppointmentId), Error> {
    let mut violations = Violations::new();
    let context = call.command_context(metadata, &mut violations);
    let id = violations.id("appointment_id", id, AppointmentId::parse);
    let id = violations.finish(id)?;
    call.require_region(id.registry())?;
    Ok((context, id))
}

impl CivilRegistryApi {
    pub(super) async fn publish_slots(
        &self,
        call: Call<pb::PublishSlotsRequest>,
    ) -> Result<pb::PublishSlotsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let registry = registry("registry", &body.registry, &mut violations);
        let day = violations.date("day", &body.day);
        let slots = slots("slots", &body.slots, &mut violations);
        let (registry, day, slots) = violations.finish((registry, day, slots))?;
        call.require_region(registry)?;
        let committed = self
            .app
            .publish_slots(registry, day, slots, &context)
            .await?;
        Ok(pb::PublishSlotsResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn list_slots(
        &self,
        call: Call<pb::ListSlotsRequest>,
    ) -> Result<pb::ListSlotsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let registry = registry("registry", &body.registry, &mut violations);
        let day = violations.date("day", &body.day);
        let (registry, day) = violations.finish((registry, day))?;
        let state = self.app.registry_day(registry, day).await?;
        let slots = state
            .slots()
            .map(|(slot, capacity, active)| pb::SlotAvailability {
                slot_id: slot.to_string(),
                capacity: u32::from(capacity),
                booked: u32::from(active),
            })
            .collect();
        Ok(pb::ListSlotsResponse { slots })
    }

    pub(super) async fn book_appointment(
        &self,
        call: Call<pb::BookAppointmentRequest>,
    ) -> Result<pb::BookAppointmentResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let registry = registry("registry", &body.registry, &mut violations);
        let day = violations.date("day", &body.day);
        let slot = slot_id("slot_id", &body.slot_id, &mut violations);
        let service = service("service", body.service, &mut violations);
        let parties = parties("parties", &body.parties, service, &mut violations);
        let (registry, day, slot, service, parties) =
            violations.finish((registry, day, slot, service, parties))?;
        call.require_region(registry)?;
        let booked = self
            .app
            .book(registry, day, slot, service, parties, &context)
            .await?;
        Ok(pb::BookAppointmentResponse {
            appointment_id: booked.appointment.to_string(),
            result: booked.committed.as_ref().map(result),
        })
    }

    pub(super) async fn reschedule_appointment(
        &self,
        call: Call<pb::RescheduleAppointmentRequest>,
    ) -> Result<pb::RescheduleAppointmentResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let from = violations.id("appointment_id", &body.appointment_id, AppointmentId::parse);
        let day = violations.date("day", &body.day);
        let slot = slot_id("slot_id", &body.slot_id, &mut violations);
        let (from, day, slot) = violations.finish((from, day, slot))?;
        call.require_region(from.registry())?;
        let booked = self.app.reschedule(&from, day, slot, &context).await?;
        // A repeat of a reschedule already done records nothing new: no result.
        Ok(pb::RescheduleAppointmentResponse {
            appointment_id: booked.appointment.to_string(),
            result: booked.committed.as_ref().map(result),
        })
    }

    pub(super) async fn cancel_appointment(
        &self,
        call: Call<pb::CancelAppointmentRequest>,
    ) -> Result<pb::CancelAppointmentResponse, Error> {
        let body = call.body();
        let (context, id) = appointment_command(&call, &body.metadata, &body.appointment_id)?;
        let committed = self.app.cancel(&id, &context).await?;
        Ok(pb::CancelAppointmentResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn check_in_appointment(
        &self,
        call: Call<pb::CheckInAppointmentRequest>,
    ) -> Result<pb::CheckInAppointmentResponse, Error> {
        let body = call.body();
        let (context, id) = appointment_command(&call, &body.metadata, &body.appointment_id)?;
        let committed = self.app.check_in(&id, &context).await?;
        Ok(pb::CheckInAppointmentResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn get_appointment(
        &self,
        call: Call<pb::GetAppointmentRequest>,
    ) -> Result<pb::GetAppointmentResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let id = violations.id("appointment_id", &body.appointment_id, AppointmentId::parse);
        let id = violations.finish(id)?;
        call.audit("appointment", id.to_string());
        call.require_region(id.registry())?;
        let appointment = self.app.appointment(&id).await?;
        self.audit_parties(&call, &appointment.parties);
        Ok(pb::GetAppointmentResponse {
            appointment: Some(appointment_message(&appointment)),
        })
    }

    pub(super) async fn set_counselling_room(
        &self,
        call: Call<pb::SetCounsellingRoomRequest>,
    ) -> Result<pb::SetCounsellingRoomResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let registry = registry("registry", &body.registry, &mut violations);
        let since = violations.date("since", &body.since);
        let (registry, since) = violations.finish((registry, since))?;
        call.require_region(registry)?;
        let committed = self
            .app
            .set_counselling_room(registry, body.open, since, &context)
            .await?;
        Ok(pb::SetCounsellingRoomResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn list_registries(
        &self,
        call: Call<pb::ListRegistriesRequest>,
    ) -> Result<pb::ListRegistriesResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let day = violations.date_or("as_of", &body.as_of, self.app.today());
        let day = violations.finish(day)?;
        self.app
            .view()
            .wait_for(edge::min_position(&body.read), call.deadline())
            .await?;
        let mut registries = self.app.registries(day).await?;
        registries.sort_by_key(|r| r.registry);
        Ok(pb::ListRegistriesResponse {
            registries: registries.into_iter().map(registry_message).collect(),
        })
    }

    pub(super) async fn get_indicators(
        &self,
        call: Call<pb::GetIndicatorsRequest>,
    ) -> Result<pb::GetIndicatorsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let from = violations.date("from", &body.from);
        let to = violations.date_or("to", &body.to, self.app.today());
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            violations.push(
                "from",
                format!("must be on or before the period's end, {to}"),
            );
        }
        let (from, to) = violations.finish((from, to))?;
        self.app
            .view()
            .wait_for(edge::min_position(&body.read), call.deadline())
            .await?;
        let (counties, city) = self.app.indicators(from, to).await?;
        Ok(pb::GetIndicatorsResponse {
            counties: counties.into_iter().map(indicator_message).collect(),
            city: Some(indicator_message(city)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid citizen id (GB 11643 check character).
    const ID_A: &str = "11010519491231002X";

    fn person(id: &str) -> common::CitizenRef {
        common::CitizenRef {
            citizen_id: id.to_owned(),
        }
    }

    fn fields(violations: &Violations) -> Vec<String> {
        violations.iter().map(|v| v.field.clone()).collect()
    }

    #[test]
    fn slots_name_each_bad_field_by_index() {
        let mut violations = Violations::new();
        let given = [
            pb::Slot {
                slot_id: "0930".into(),
                capacity: 5,
            },
            pb::Slot {
                slot_id: "2460".into(),
                capacity: 0,
            },
            pb::Slot {
                slot_id: "0930".into(),
                capacity: 101,
            },
        ];
        assert_eq!(slots("slots", &given, &mut violations), None);
        assert_eq!(
            fields(&violations),
            [
                "slots[1].slot_id",
                "slots[1].capacity",
                "slots[2].slot_id",
                "slots[2].capacity"
            ]
        );

        let mut violations = Violations::new();
        assert_eq!(slots("slots", &[], &mut violations), None);
        assert_eq!(fields(&violations), ["slots"]);

        let mut violations = Violations::new();
        let many = vec![
            pb::Slot {
                slot_id: "0900".into(),
                capacity: 1,
            };
            MAX_SLOTS + 1
        ];
        assert_eq!(slots("slots", &many, &mut violations), None);
        assert_eq!(fields(&violations), ["slots"]);

        let mut violations = Violations::new();
        let parsed = slots(
            "slots",
            &[pb::Slot {
                slot_id: "1400".into(),
                capacity: 100,
            }],
            &mut violations,
        )
        .expect("valid");
        assert!(violations.is_empty());
        assert_eq!(parsed, [(SlotId::parse("1400").expect("slot"), 100)]);
    }

    #[test]
    fn services_must_be_given() {
        let mut violations = Violations::new();
        assert_eq!(service("service", 0, &mut violations), None);
        assert_eq!(service("service", 99, &mut violations), None);
        assert_eq!(fields(&violations), ["service", "service"]);
        let mut violations = Violations::new();
        assert_eq!(
            service(
                "service",
                pb::AppointmentService::CertificateReissue.into(),
                &mut violations
            ),
            Some(Service::CertificateReissue)
        );
        for s in Service::ALL {
            assert_eq!(
                service(
                    "service",
                    codec::appointments::service_to_pb(s).into(),
                    &mut violations
                ),
                Some(s)
            );
        }
        assert!(violations.is_empty());
    }

    #[test]
    fn parties_are_counted_checked_and_never_echoed() {
        let mut violations = Violations::new();
        let given = [person(ID_A), person(ID_A)];
        assert_eq!(
            parties("parties", &given, Some(Service::Marriage), &mut violations),
            None
        );
        assert_eq!(fields(&violations), ["parties[1].citizen_id"]);
        assert!(!violations.to_string().contains(ID_A));

        let mut violations = Violations::new();
        let given = [person(ID_A), person("")];
        assert_eq!(
            parties(
                "parties",
                &given,
                Some(Service::CertificateReissue),
                &mut violations
            ),
            None
        );
        assert_eq!(fields(&violations), ["parties", "parties[1].citizen_id"]);

        let mut violations = Violations::new();
        assert_eq!(parties("parties", &[], None, &mut violations), None);
        assert_eq!(fields(&violations), ["parties"]);

        let mut violations = Violations::new();
        let many = vec![person(ID_A); 3];
        assert_eq!(parties("parties", &many, None, &mut violations), None);
        assert_eq!(fields(&violations), ["parties"]);

        let mut violations = Violations::new();
        let parsed = parties(
            "parties",
            &[person(ID_A)],
            Some(Service::CertificateReissue),
            &mut violations,
        )
        .expect("valid");
        assert!(violations.is_empty());
        assert_eq!(parsed.len(), 1);
    }
}
