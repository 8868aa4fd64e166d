//! Appointments (预约登记): slots, bookings, rescheduling, cancellation, check-in; and the
//! registries' counselling rooms.

use minzheng_kit::{
    Error,
    aggregate::{
        Aggregate as _, CommandContext, Committed, commit_together, with_conflict_retries,
    },
};
use minzheng_types::{CitizenId, RegionCode};
use time::Date;

use super::{CONFLICT_RETRIES, CivilRegistry, event_at, last};
use crate::{
    ids::{AppointmentId, day_key},
    registry,
    registry_day::{
        self, Appointment, AppointmentState, CancelReason, RegistryDay, Service, SlotId,
    },
};

/// What a booking or a reschedule produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booked {
    pub appointment: AppointmentId,
    /// `None` when a reschedule repeated one already done: nothing new was recorded.
    pub committed: Option<Committed>,
}

impl CivilRegistry {
    /// Publishes slots of `registry` on `day` (today or later).
    pub async fn publish_slots(
        &self,
        registry: RegionCode,
        day: Date,
        slots: Vec<(SlotId, u16)>,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        self.require_registry(registry, day).await?;
        let command = registry_day::Command::PublishSlots(registry_day::PublishSlots {
            registry,
            day,
            slots,
            published_on: self.today(),
        });
        let committed = self
            .days
            .run(&day_key(registry, day), &command, context)
            .await?;
        self.written(std::slice::from_ref(&committed));
        Ok(committed)
    }

    /// The day's state (slots and appointments); the default state when nothing was published.
    pub async fn registry_day(
        &self,
        registry: RegionCode,
        day: Date,
    ) -> Result<RegistryDay, Error> {
        Ok(self.days.load(&day_key(registry, day)).await?.state)
    }

    /// Books an appointment today.
    pub async fn book(
        &self,
        registry: RegionCode,
        day: Date,
        slot: SlotId,
        service: Service,
        parties: Vec<CitizenId>,
        context: &CommandContext,
    ) -> Result<Booked, Error> {
        let key = day_key(registry, day);
        let command = registry_day::Command::Book(registry_day::Book {
            registry,
            day,
            slot,
            service,
            parties,
            booked_on: self.today(),
            rescheduled_from: None,
        });
        let committed = self.days.run(&key, &command, context).await?;
        self.written(std::slice::from_ref(&committed));
        // The booking is the event the command recorded (also when this is an idempotent
        // retry, whose outcome names the first booking's version).
        match event_at(&self.days, &key, committed.stream_version).await? {
            registry_day::Event::AppointmentBooked(e) => Ok(Booked {
                appointment: e.appointment,
                committed: Some(committed),
            }),
            other => Err(Error::Internal(anyhow::anyhow!(
                "a booking recorded {other:?}-like event instead of a booking"
            ))),
        }
    }

    /// One appointment, `NotFound` when it was never booked.
    pub async fn appointment(&self, id: &AppointmentId) -> Result<Appointment, Error> {
        let day = self.days.load(&id.day_key()).await?.state;
        day.appointment(id)
            .cloned()
            .ok_or_else(|| Error::NotFound("the appointment does not exist".to_owned()))
    }

    /// Cancels an appointment at the applicants' wish.
    pub async fn cancel(
        &self,
        appointment: &AppointmentId,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let command = registry_day::Command::Cancel(registry_day::Cancel {
            appointment: *appointment,
            cancelled_on: self.today(),
            reason: CancelReason::ByApplicant,
        });
        let committed = self
            .days
            .run(&appointment.day_key(), &command, context)
            .await?;
        self.written(std::slice::from_ref(&committed));
        Ok(committed)
    }

    /// Records the applicants' arrival today.
    pub async fn check_in(
        &self,
        appointment: &AppointmentId,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let command = registry_day::Command::CheckIn(registry_day::CheckIn {
            appointment: *appointment,
            on: self.today(),
        });
        let committed = self
            .days
            .run(&appointment.day_key(), &command, context)
            .await?;
        self.written(std::slice::from_ref(&committed));
        Ok(committed)
    }

    /// Moves an appointment to `slot` on `day` at the same registry: on the same day one
    /// command, on another day the new booking and the cancellation appended together. A repeat
    /// of a reschedule already done answers with the appointment it moved to.
    pub async fn reschedule(
        &self,
        from: &AppointmentId,
        day: Date,
        slot: SlotId,
        context: &CommandContext,
    ) -> Result<Booked, Error> {
        let today = self.today();
        if day == from.day() {
            let key = from.day_key();
            let command = registry_day::Command::Reschedule(registry_day::Reschedule {
                appointment: *from,
                to_slot: slot,
                on: today,
            });
            let committed = self.days.run(&key, &command, context).await?;
            self.written(std::slice::from_ref(&committed));
            let moved = self.appointment(from).await?;
            let appointment = moved.rescheduled_to.ok_or_else(|| {
                Error::Internal(anyhow::anyhow!("a reschedule left no new appointment"))
            })?;
            return Ok(Booked {
                appointment,
                committed: Some(committed),
            });
        }
        let target_key = day_key(from.registry(), day);
        let outcome = with_conflict_retries(CONFLICT_RETRIES, || async {
            let source = self.days.load(&from.day_key()).await?;
            let target = self.days.load(&target_key).await?;
            let Some(old) = source.state.appointment(from) else {
                return Ok(Err(Error::NotFound(
                    "the appointment does not exist".to_owned(),
                )));
            };
            if let (AppointmentState::Cancelled, Some(to)) = (old.state, old.rescheduled_to) {
                // Done already: answer as the first time, with where it was recorded.
                let recorded = self.days.recorded(&from.day_key(), source.version).await?;
                return Ok(Ok((to, vec![recorded])));
            }
            let book = registry_day::Command::Book(registry_day::Book {
                registry: from.registry(),
                day,
                slot,
                service: old.service,
                parties: old.parties.clone(),
                booked_on: today,
                rescheduled_from: Some(*from),
            });
            let booked = match target.state.handle(&book) {
                Ok(events) => events,
                Err(refusal) => return Ok(Err(Error::from_refusal(&refusal))),
            };
            let Some(registry_day::Event::AppointmentBooked(new)) = booked.first() else {
                return Ok(Err(Error::Internal(anyhow::anyhow!(
                    "a booking booked nothing"
                ))));
            };
            let to = new.appointment;
            let cancel = registry_day::Command::Cancel(registry_day::Cancel {
                appointment: *from,
                cancelled_on: today,
                reason: CancelReason::Rescheduled { to },
            });
            let cancelled = match source.state.handle(&cancel) {
                Ok(events) => events,
                Err(refusal) => return Ok(Err(Error::from_refusal(&refusal))),
            };
            let decided = vec![
                self.days.decided(&target_key, target.version, &booked)?,
                self.days
                    .decided(&from.day_key(), source.version, &cancelled)?,
            ];
            let committed = commit_together(self.store(), decided, context).await?;
            Ok(Ok((to, committed)))
        })
        .await??;
        let (appointment, committed) = outcome;
        self.written(&committed);
        Ok(Booked {
            appointment,
            committed: last(committed),
        })
    }

    /// Opens or closes a registry's counselling room from `since`.
    pub async fn set_counselling_room(
        &self,
        registry: RegionCode,
        open: bool,
        since: Date,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        self.require_registry(registry, since).await?;
        let command = if open {
            registry::Command::OpenCounsellingRoom(registry::OpenCounsellingRoom {
                registry,
                on: since,
            })
        } else {
            registry::Command::CloseCounsellingRoom(registry::CloseCounsellingRoom {
                registry,
                on: since,
            })
        };
        let committed = self.registries.run(&registry, &command, context).await?;
        self.written(std::slice::from_ref(&committed));
        Ok(committed)
    }

    /// The appointment `id`, checked in, for `service`, naming exactly `parties` (any order):
    /// what a registration rests on.
    pub(crate) async fn attended(
        &self,
        id: &AppointmentId,
        service: Service,
        parties: &[&CitizenId],
    ) -> Result<Appointment, Error> {
        let appointment = self.checked_in(id, service).await?;
        let same = appointment.parties.len() == parties.len()
            && parties.iter().all(|p| appointment.parties.contains(p));
        if !same {
            return Err(Error::refused(
                "parties_differ_from_appointment",
                "the parties are not the people the appointment was booked for",
            ));
        }
        Ok(appointment)
    }

    /// The appointment `id`, for `service`, with its applicants checked in.
    pub(crate) async fn checked_in(
        &self,
        id: &AppointmentId,
        service: Service,
    ) -> Result<Appointment, Error> {
        let appointment = self.appointment(id).await?;
        if appointment.service != service {
            return Err(Error::refused(
                "wrong_appointment_service",
                format!(
                    "the appointment is for {}, not {}",
                    appointment.service.as_str(),
                    service.as_str()
                ),
            ));
        }
        if appointment.state != AppointmentState::CheckedIn {
            return Err(Error::refused(
                "not_checked_in",
                "the applicants have not checked in for this appointment",
            ));
        }
        Ok(appointment)
    }
}
