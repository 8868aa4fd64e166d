//! One marriage registry's appointments (预约登记) on one day, stream
//! `registry_day-<county 6 digits>-<yyyymmdd>` (key [`crate::ids::day_key`]).
//!
//! The plan (ch. 5 §4) asks registries to serve by appointment. A registry day's life:
//!
//! 1. the registry (婚姻登记机关, a county-level division) **publishes slots** for the day: each
//!    slot starts at a time "HHMM" and takes a number of appointments (1 to 100). Publishing
//!    again adds slots or changes capacities; re-publishing what is already there changes
//!    nothing;
//! 2. applicants **book** a slot for a service: marriage registration (结婚登记), a divorce
//!    application (离婚登记申请) or the divorce's registration after the cooling-off period
//!    (both parties come), or a certificate reissue (补领结婚证, one party comes). The day issues
//!    the appointment's id from its ordinal among every appointment ever booked on it;
//! 3. an appointment is **cancelled** by its applicants, **rescheduled** (a new appointment on
//!    another slot replaces it), **checked in** when the applicants arrive on the day, or
//!    recorded as a **no-show** (爽约) after the day by the registry's scheduler.
//!
//! The invariant this aggregate exists for is capacity: a slot never holds more active
//! appointments (not cancelled) than its capacity, and nobody holds two active appointments on
//! the same day. Nothing can be booked, cancelled or rescheduled after the day; check-in happens
//! only on the day; nothing is deleted.
//!
//! What this aggregate cannot see: other days. Rescheduling to another day is the application's
//! work: it books on the target day with `rescheduled_from` and cancels here with
//! [`CancelReason::Rescheduled`], appending both atomically. Whether the parties may marry or
//! divorce is decided at registration, not at booking.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use minzheng_kit::aggregate::{Aggregate, DomainError, RefusalKind};
use minzheng_types::{CitizenId, RegionCode, RegionLevel};
use time::Date;

use crate::ids::{AppointmentId, MAX_APPOINTMENTS_PER_DAY};

/// The capacities a slot may have.
pub const CAPACITY: std::ops::RangeInclusive<u16> = 1..=100;

/// A slot's start time within its day, written "HHMM" (e.g. "0930"); unique within the day.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotId {
    hour: u8,
    minute: u8,
}

/// Why a text is not a slot id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be a time of day as four digits HHMM, from 0000 to 2359, e.g. 0930")]
pub struct SlotIdError;

impl SlotId {
    pub fn parse(input: &str) -> Result<Self, SlotIdError> {
        if input.len() != 4 || !input.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SlotIdError);
        }
        let hour: u8 = input[..2].parse().map_err(|_| SlotIdError)?;
        let minute: u8 = input[2..].parse().map_err(|_| SlotIdError)?;
        if hour > 23 || minute > 59 {
            return Err(SlotIdError);
        }
        Ok(Self { hour, minute })
    }

    pub fn hour(self) -> u8 {
        self.hour
    }

    pub fn minute(self) -> u8 {
        self.minute
    }
}

impl fmt::Display for SlotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}{:02}", self.hour, self.minute)
    }
}

impl fmt::Debug for SlotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SlotId({self})")
    }
}

/// What an appointment is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// 结婚登记: both parties come.
    Marriage,
    /// 离婚登记申请: both parties come to apply for divorce by agreement.
    DivorceApplication,
    /// 发给离婚证: both parties come back after the cooling-off period.
    DivorceRegistration,
    /// 补领结婚证: one party comes for a new certificate.
    CertificateReissue,
}

impl Service {
    pub const ALL: [Service; 4] = [
        Service::Marriage,
        Service::DivorceApplication,
        Service::DivorceRegistration,
        Service::CertificateReissue,
    ];

    /// How many people an appointment for this service names.
    pub fn parties(self) -> usize {
        match self {
            Service::Marriage | Service::DivorceApplication | Service::DivorceRegistration => 2,
            Service::CertificateReissue => 1,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Service::Marriage => "marriage",
            Service::DivorceApplication => "divorce_application",
            Service::DivorceRegistration => "divorce_registration",
            Service::CertificateReissue => "certificate_reissue",
        }
    }
}

/// Why an appointment was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    /// The applicants cancelled it.
    ByApplicant,
    /// It was moved: `to` replaces it, on this day or another.
    Rescheduled { to: AppointmentId },
}

/// Where an appointment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppointmentState {
    /// Booked, waiting for the day.
    Booked,
    /// The applicants arrived.
    CheckedIn,
    /// Cancelled (or rescheduled); its place is free again.
    Cancelled,
    /// Nobody came (爽约).
    NoShow,
}

impl AppointmentState {
    /// Whether the appointment holds its place in the slot: anything but cancelled.
    pub fn is_active(self) -> bool {
        self != AppointmentState::Cancelled
    }
}

/// One appointment booked on the day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appointment {
    pub id: AppointmentId,
    pub slot: SlotId,
    pub service: Service,
    /// PERSONAL DATA: the people who will come.
    pub parties: Vec<CitizenId>,
    pub booked_on: Date,
    pub state: AppointmentState,
    /// The appointment this one replaces.
    pub rescheduled_from: Option<AppointmentId>,
    /// The appointment that replaced this one.
    pub rescheduled_to: Option<AppointmentId>,
}

/// A slot and its bookings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SlotState {
    capacity: u16,
    /// Appointments on the slot that are not cancelled.
    active: u16,
}

/// The state of one registry day; `Default` is a day without published slots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryDay {
    /// The registry and the day, set by the first slots published.
    stream: Option<(RegionCode, Date)>,
    slots: BTreeMap<SlotId, SlotState>,
    /// Every appointment ever booked, in ordinal order (the ordinal is the index + 1).
    appointments: Vec<Appointment>,
}

impl RegistryDay {
    /// The registry, `None` before slots are published.
    pub fn registry(&self) -> Option<RegionCode> {
        self.stream.map(|(registry, _)| registry)
    }

    /// The day, `None` before slots are published.
    pub fn day(&self) -> Option<Date> {
        self.stream.map(|(_, day)| day)
    }

    /// Each slot in time order: its id, capacity and active (not cancelled) appointments.
    pub fn slots(&self) -> impl Iterator<Item = (SlotId, u16, u16)> + '_ {
        self.slots.iter().map(|(id, s)| (*id, s.capacity, s.active))
    }

    /// The appointment `id`, `None` when it was not booked on this day.
    pub fn appointment(&self, id: &AppointmentId) -> Option<&Appointment> {
        self.appointments
            .get(usize::from(id.ordinal()).checked_sub(1)?)
            .filter(|a| a.id == *id)
    }

    /// Every appointment ever booked on the day, in ordinal order.
    pub fn appointments(&self) -> impl Iterator<Item = &Appointment> + '_ {
        self.appointments.iter()
    }

    /// Whether an appointment is still waiting (neither checked in, cancelled nor a no-show).
    pub fn has_pending_bookings(&self) -> bool {
        self.appointments
            .iter()
            .any(|a| a.state == AppointmentState::Booked)
    }

    /// The ordinal the next appointment booked would get.
    pub fn next_ordinal(&self) -> u16 {
        u16::try_from(self.appointments.len() + 1).unwrap_or(u16::MAX)
    }

    fn appointment_mut(&mut self, id: &AppointmentId) -> Option<&mut Appointment> {
        self.appointments
            .get_mut(usize::from(id.ordinal()).checked_sub(1)?)
            .filter(|a| a.id == *id)
    }

    fn slot_mut(&mut self, id: SlotId) -> &mut SlotState {
        self.slots.entry(id).or_insert(SlotState {
            capacity: 0,
            active: 0,
        })
    }
}

/// What can be asked of a registry day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    PublishSlots(PublishSlots),
    Book(Book),
    Cancel(Cancel),
    CheckIn(CheckIn),
    RecordNoShows(RecordNoShows),
    Reschedule(Reschedule),
}

/// Opens slots for the day or changes their capacities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishSlots {
    /// The registry: a county-level division.
    pub registry: RegionCode,
    pub day: Date,
    /// Each slot with its capacity (1 to 100).
    pub slots: Vec<(SlotId, u16)>,
    /// Today.
    pub published_on: Date,
}

/// Books an appointment on a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Book {
    pub registry: RegionCode,
    pub day: Date,
    pub slot: SlotId,
    pub service: Service,
    /// PERSONAL DATA: two distinct people, one for a certificate reissue.
    pub parties: Vec<CitizenId>,
    /// Today.
    pub booked_on: Date,
    /// The appointment on another day this one replaces; the application cancels it there.
    pub rescheduled_from: Option<AppointmentId>,
}

/// Cancels an appointment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancel {
    pub appointment: AppointmentId,
    /// Today.
    pub cancelled_on: Date,
    pub reason: CancelReason,
}

/// Records the applicants' arrival.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckIn {
    pub appointment: AppointmentId,
    /// Today.
    pub on: Date,
}

/// Records every appointment still waiting after the day as a no-show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordNoShows {
    /// Today.
    pub as_of: Date,
}

/// Moves an appointment to another slot of the same day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reschedule {
    pub appointment: AppointmentId,
    pub to_slot: SlotId,
    /// Today.
    pub on: Date,
}

/// What happened on a registry day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    SlotsPublished(SlotsPublished),
    AppointmentBooked(AppointmentBooked),
    AppointmentCancelled(AppointmentCancelled),
    AppointmentCheckedIn(AppointmentCheckedIn),
    AppointmentNoShow(AppointmentNoShow),
}

/// Slots were opened, or their capacities changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotsPublished {
    pub registry: RegionCode,
    pub day: Date,
    /// The new slots and those whose capacity changed, with their capacity.
    pub slots: Vec<(SlotId, u16)>,
    pub published_on: Date,
}

/// An appointment was booked; its id names the registry and the day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentBooked {
    pub appointment: AppointmentId,
    pub slot: SlotId,
    pub service: Service,
    /// PERSONAL DATA.
    pub parties: Vec<CitizenId>,
    pub booked_on: Date,
    pub rescheduled_from: Option<AppointmentId>,
}

/// An appointment was cancelled; its place is free again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentCancelled {
    pub appointment: AppointmentId,
    pub cancelled_on: Date,
    pub reason: CancelReason,
}

/// The applicants arrived, on the appointment's day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentCheckedIn {
    pub appointment: AppointmentId,
    pub checked_in_on: Date,
}

/// Nobody came to the appointment (its day is the appointment id's day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentNoShow {
    pub appointment: AppointmentId,
}

/// A rule that refused a registry-day command. Messages never name a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("a marriage registry is a county-level division")]
    NotACounty,
    #[error("the command is for another registry or day than this stream's")]
    WrongRegistryDay,
    #[error("the day has passed")]
    DayPassed,
    #[error("no slots were given")]
    NoSlots,
    #[error("slot {slot}: a capacity must be from 1 to 100, not {capacity}")]
    CapacityOutOfRange { slot: SlotId, capacity: u16 },
    #[error("slot {slot} is given twice")]
    DuplicateSlot { slot: SlotId },
    #[error("slot {slot}: capacity {capacity} is below its {active} active appointments")]
    CapacityBelowBookings {
        slot: SlotId,
        capacity: u16,
        active: u16,
    },
    #[error("no slots have been published for the day")]
    NoSlotsPublished,
    #[error("slot {slot} is not published for the day")]
    SlotNotFound { slot: SlotId },
    #[error("slot {slot} is fully booked")]
    SlotFullyBooked { slot: SlotId },
    #[error("a party already holds an appointment on this day")]
    AlreadyBooked,
    #[error("an appointment for {service} names {expected} people, not {given}")]
    WrongNumberOfParties {
        service: &'static str,
        expected: usize,
        given: usize,
    },
    #[error("the same person is named twice")]
    SamePersonTwice,
    #[error("the day has issued all {MAX_APPOINTMENTS_PER_DAY} appointments it can")]
    DayFull,
    #[error("to move an appointment within its day, reschedule it")]
    SameDayReschedule,
    #[error("appointment {appointment} was not booked on this day")]
    AppointmentNotFound { appointment: AppointmentId },
    #[error("appointment {appointment} is no longer booked")]
    AppointmentClosed { appointment: AppointmentId },
    #[error("appointment {appointment} is on another day")]
    NotTheAppointmentDay { appointment: AppointmentId },
    #[error("the day is not over yet")]
    DayNotOver,
    #[error("appointment {appointment} is already on slot {slot}")]
    SameSlot {
        appointment: AppointmentId,
        slot: SlotId,
    },
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::NotACounty => "not_a_county",
            Error::WrongRegistryDay => "wrong_registry_day",
            Error::DayPassed => "day_passed",
            Error::NoSlots => "no_slots",
            Error::CapacityOutOfRange { .. } => "capacity_out_of_range",
            Error::DuplicateSlot { .. } => "duplicate_slot",
            Error::CapacityBelowBookings { .. } => "capacity_below_bookings",
            Error::NoSlotsPublished => "no_slots_published",
            Error::SlotNotFound { .. } => "slot_not_found",
            Error::SlotFullyBooked { .. } => "slot_fully_booked",
            Error::AlreadyBooked => "already_booked",
            Error::WrongNumberOfParties { .. } => "wrong_number_of_parties",
            Error::SamePersonTwice => "same_person_twice",
            Error::DayFull => "day_full",
            Error::SameDayReschedule => "same_day_reschedule",
            Error::AppointmentNotFound { .. } => "appointment_not_found",
            Error::AppointmentClosed { .. } => "appointment_closed",
            Error::NotTheAppointmentDay { .. } => "not_the_appointment_day",
            Error::DayNotOver => "day_not_over",
            Error::SameSlot { .. } => "same_slot",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            Error::SlotNotFound { .. } | Error::AppointmentNotFound { .. } => RefusalKind::NotFound,
            _ => RefusalKind::FailedPrecondition,
        }
    }
}

impl Aggregate for RegistryDay {
    const CATEGORY: &'static str = "registry_day";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::PublishSlots(c) => self.publish(c),
            Command::Book(c) => self.book(c),
            Command::Cancel(c) => self.cancel(c),
            Command::CheckIn(c) => self.check_in(c),
            Command::RecordNoShows(c) => self.record_no_shows(c),
            Command::Reschedule(c) => self.reschedule(c),
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::SlotsPublished(e) => {
                self.stream.get_or_insert((e.registry, e.day));
                for &(slot, capacity) in &e.slots {
                    self.slot_mut(slot).capacity = capacity;
                }
            }
            Event::AppointmentBooked(e) => {
                let id = e.appointment;
                self.stream.get_or_insert((id.registry(), id.day()));
                let slot = self.slot_mut(e.slot);
                slot.active = slot.active.saturating_add(1);
                self.appointments.push(Appointment {
                    id,
                    slot: e.slot,
                    service: e.service,
                    parties: e.parties.clone(),
                    booked_on: e.booked_on,
                    state: AppointmentState::Booked,
                    rescheduled_from: e.rescheduled_from,
                    rescheduled_to: None,
                });
            }
            Event::AppointmentCancelled(e) => {
                if let Some(appointment) = self.appointment_mut(&e.appointment) {
                    let was_active = appointment.state.is_active();
                    appointment.state = AppointmentState::Cancelled;
                    if let CancelReason::Rescheduled { to } = e.reason {
                        appointment.rescheduled_to = Some(to);
                    }
                    let slot = appointment.slot;
                    if was_active {
                        let slot = self.slot_mut(slot);
                        slot.active = slot.active.saturating_sub(1);
                    }
                }
            }
            Event::AppointmentCheckedIn(e) => {
                if let Some(appointment) = self.appointment_mut(&e.appointment) {
                    appointment.state = AppointmentState::CheckedIn;
                }
            }
            Event::AppointmentNoShow(e) => {
                if let Some(appointment) = self.appointment_mut(&e.appointment) {
                    appointment.state = AppointmentState::NoShow;
                }
            }
        }
        self
    }
}

impl RegistryDay {
    fn publish(&self, c: &PublishSlots) -> Result<Vec<Event>, Error> {
        if c.registry.level() != RegionLevel::County {
            return Err(Error::NotACounty);
        }
        if self.stream.is_some_and(|s| s != (c.registry, c.day)) {
            return Err(Error::WrongRegistryDay);
        }
        if c.published_on > c.day {
            return Err(Error::DayPassed);
        }
        if c.slots.is_empty() {
            return Err(Error::NoSlots);
        }
        let mut seen = HashSet::new();
        let mut changed = Vec::new();
        for &(slot, capacity) in &c.slots {
            if !CAPACITY.contains(&capacity) {
                return Err(Error::CapacityOutOfRange { slot, capacity });
            }
            if !seen.insert(slot) {
                return Err(Error::DuplicateSlot { slot });
            }
            match self.slots.get(&slot) {
                Some(s) if s.capacity == capacity => {}
                Some(s) if capacity < s.active => {
                    return Err(Error::CapacityBelowBookings {
                        slot,
                        capacity,
                        active: s.active,
                    });
                }
                _ => changed.push((slot, capacity)),
            }
        }
        if changed.is_empty() {
            return Ok(vec![]);
        }
        Ok(vec![Event::SlotsPublished(SlotsPublished {
            registry: c.registry,
            day: c.day,
            slots: changed,
            published_on: c.published_on,
        })])
    }

    /// The registry and day, once slots are published.
    fn published(&self) -> Result<(RegionCode, Date), Error> {
        self.stream
            .filter(|_| !self.slots.is_empty())
            .ok_or(Error::NoSlotsPublished)
    }

    /// The slot `slot` if it has room for one more appointment.
    fn room_on(&self, slot: SlotId) -> Result<(), Error> {
        let state = self.slots.get(&slot).ok_or(Error::SlotNotFound { slot })?;
        if state.active >= state.capacity {
            return Err(Error::SlotFullyBooked { slot });
        }
        Ok(())
    }

    /// The id of the next appointment.
    fn next_id(&self, registry: RegionCode, day: Date) -> Result<AppointmentId, Error> {
        let ordinal = self.next_ordinal();
        if ordinal > MAX_APPOINTMENTS_PER_DAY {
            return Err(Error::DayFull);
        }
        AppointmentId::new(registry, day, ordinal).ok_or(Error::DayFull)
    }

    fn book(&self, c: &Book) -> Result<Vec<Event>, Error> {
        let (registry, day) = self.published()?;
        if (c.registry, c.day) != (registry, day) {
            return Err(Error::WrongRegistryDay);
        }
        if c.booked_on > day {
            return Err(Error::DayPassed);
        }
        if c.rescheduled_from
            .is_some_and(|from| from.day_key() == crate::ids::day_key(registry, day))
        {
            return Err(Error::SameDayReschedule);
        }
        if !self.slots.contains_key(&c.slot) {
            return Err(Error::SlotNotFound { slot: c.slot });
        }
        let expected = c.service.parties();
        if c.parties.len() != expected {
            return Err(Error::WrongNumberOfParties {
                service: c.service.as_str(),
                expected,
                given: c.parties.len(),
            });
        }
        if c.parties.iter().collect::<HashSet<_>>().len() != c.parties.len() {
            return Err(Error::SamePersonTwice);
        }
        let holds_one = |person: &CitizenId| {
            self.appointments
                .iter()
                .any(|a| a.state.is_active() && a.parties.contains(person))
        };
        if c.parties.iter().any(holds_one) {
            return Err(Error::AlreadyBooked);
        }
        self.room_on(c.slot)?;
        let appointment = self.next_id(registry, day)?;
        Ok(vec![Event::AppointmentBooked(AppointmentBooked {
            appointment,
            slot: c.slot,
            service: c.service,
            parties: c.parties.clone(),
            booked_on: c.booked_on,
            rescheduled_from: c.rescheduled_from,
        })])
    }

    /// The appointment `id` while it is still booked.
    fn booked(&self, id: &AppointmentId) -> Result<&Appointment, Error> {
        let appointment = self
            .appointment(id)
            .ok_or(Error::AppointmentNotFound { appointment: *id })?;
        if appointment.state != AppointmentState::Booked {
            return Err(Error::AppointmentClosed { appointment: *id });
        }
        Ok(appointment)
    }

    fn cancel(&self, c: &Cancel) -> Result<Vec<Event>, Error> {
        let appointment = self.booked(&c.appointment)?;
        if c.cancelled_on > appointment.id.day() {
            return Err(Error::DayPassed);
        }
        if let CancelReason::Rescheduled { to } = c.reason
            && to.day_key() == appointment.id.day_key()
        {
            return Err(Error::SameDayReschedule);
        }
        Ok(vec![Event::AppointmentCancelled(AppointmentCancelled {
            appointment: c.appointment,
            cancelled_on: c.cancelled_on,
            reason: c.reason,
        })])
    }

    fn check_in(&self, c: &CheckIn) -> Result<Vec<Event>, Error> {
        let appointment = self.booked(&c.appointment)?;
        if c.on != appointment.id.day() {
            return Err(Error::NotTheAppointmentDay {
                appointment: c.appointment,
            });
        }
        Ok(vec![Event::AppointmentCheckedIn(AppointmentCheckedIn {
            appointment: c.appointment,
            checked_in_on: c.on,
        })])
    }

    fn record_no_shows(&self, c: &RecordNoShows) -> Result<Vec<Event>, Error> {
        let Some(day) = self.day() else {
            return Ok(vec![]);
        };
        if c.as_of <= day {
            return Err(Error::DayNotOver);
        }
        Ok(self
            .appointments
            .iter()
            .filter(|a| a.state == AppointmentState::Booked)
            .map(|a| Event::AppointmentNoShow(AppointmentNoShow { appointment: a.id }))
            .collect())
    }

    fn reschedule(&self, c: &Reschedule) -> Result<Vec<Event>, Error> {
        let old = self.booked(&c.appointment)?;
        if c.on > old.id.day() {
            return Err(Error::DayPassed);
        }
        if c.to_slot == old.slot {
            return Err(Error::SameSlot {
                appointment: old.id,
                slot: old.slot,
            });
        }
        self.room_on(c.to_slot)?;
        let new = self.next_id(old.id.registry(), old.id.day())?;
        Ok(vec![
            Event::AppointmentBooked(AppointmentBooked {
                appointment: new,
                slot: c.to_slot,
                service: old.service,
                parties: old.parties.clone(),
                booked_on: c.on,
                rescheduled_from: Some(old.id),
            }),
            Event::AppointmentCancelled(AppointmentCancelled {
                appointment: old.id,
                cancelled_on: c.on,
                reason: CancelReason::Rescheduled { to: new },
            }),
        ])
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;

    pub(crate) fn registry() -> RegionCode {
        RegionCode::parse("210502000000").expect("valid")
    }

    pub(crate) const DAY: Date = date!(2025 - 07 - 01);
    const BEFORE: Date = date!(2025 - 06 - 20);
    const AFTER: Date = date!(2025 - 07 - 02);

    pub(crate) fn slot(s: &str) -> SlotId {
        SlotId::parse(s).expect("valid slot")
    }

    /// A valid citizen id born 1990-01-01 with sequence number `n` (odd: male).
    pub(crate) fn citizen(n: u16) -> CitizenId {
        let body = format!("21050219900101{n:03}");
        const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = body
            .bytes()
            .zip(WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        let check = b"10X98765432"[(sum % 11) as usize] as char;
        CitizenId::parse(&format!("{body}{check}")).expect("valid citizen id")
    }

    pub(crate) fn id(ordinal: u16) -> AppointmentId {
        AppointmentId::new(registry(), DAY, ordinal).expect("valid")
    }

    fn other_day_id() -> AppointmentId {
        AppointmentId::parse("210502-20250708-001").expect("valid")
    }

    pub(crate) fn published(slots: &[(&str, u16)]) -> Event {
        Event::SlotsPublished(SlotsPublished {
            registry: registry(),
            day: DAY,
            slots: slots.iter().map(|&(s, c)| (slot(s), c)).collect(),
            published_on: BEFORE,
        })
    }

    fn publish(slots: &[(&str, u16)], published_on: Date) -> Command {
        Command::PublishSlots(PublishSlots {
            registry: registry(),
            day: DAY,
            slots: slots.iter().map(|&(s, c)| (slot(s), c)).collect(),
            published_on,
        })
    }

    fn book_cmd(slot_id: &str, service: Service, parties: &[u16]) -> Book {
        Book {
            registry: registry(),
            day: DAY,
            slot: slot(slot_id),
            service,
            parties: parties.iter().map(|&n| citizen(n)).collect(),
            booked_on: BEFORE,
            rescheduled_from: None,
        }
    }

    fn book(slot_id: &str, service: Service, parties: &[u16]) -> Command {
        Command::Book(book_cmd(slot_id, service, parties))
    }

    pub(crate) fn booked(ordinal: u16, slot_id: &str, parties: &[u16]) -> Event {
        Event::AppointmentBooked(booking(ordinal, slot_id, parties))
    }

    /// A booking made before the day: a certificate reissue for one party, a marriage for two.
    pub(crate) fn booking(ordinal: u16, slot_id: &str, parties: &[u16]) -> AppointmentBooked {
        AppointmentBooked {
            appointment: id(ordinal),
            slot: slot(slot_id),
            service: if parties.len() == 1 {
                Service::CertificateReissue
            } else {
                Service::Marriage
            },
            parties: parties.iter().map(|&n| citizen(n)).collect(),
            booked_on: BEFORE,
            rescheduled_from: None,
        }
    }

    pub(crate) fn cancelled(ordinal: u16) -> Event {
        Event::AppointmentCancelled(AppointmentCancelled {
            appointment: id(ordinal),
            cancelled_on: BEFORE,
            reason: CancelReason::ByApplicant,
        })
    }

    fn cancel(ordinal: u16, cancelled_on: Date) -> Command {
        Command::Cancel(Cancel {
            appointment: id(ordinal),
            cancelled_on,
            reason: CancelReason::ByApplicant,
        })
    }

    fn check_in(ordinal: u16, on: Date) -> Command {
        Command::CheckIn(CheckIn {
            appointment: id(ordinal),
            on,
        })
    }

    pub(crate) fn checked_in(ordinal: u16) -> Event {
        Event::AppointmentCheckedIn(AppointmentCheckedIn {
            appointment: id(ordinal),
            checked_in_on: DAY,
        })
    }

    fn reschedule(ordinal: u16, to_slot: &str) -> Command {
        Command::Reschedule(Reschedule {
            appointment: id(ordinal),
            to_slot: slot(to_slot),
            on: BEFORE,
        })
    }

    #[test]
    fn slot_ids_are_times_of_day() {
        assert_eq!(slot("0930").to_string(), "0930");
        assert_eq!(slot("0000").hour(), 0);
        assert_eq!(slot("2359").minute(), 59);
        for bad in [
            "",
            "930",
            "09300",
            "2400",
            "0960",
            "09:3",
            "-930",
            "０９３０",
        ] {
            assert_eq!(SlotId::parse(bad), Err(SlotIdError), "{bad}");
        }
        assert!(slot("0900") < slot("0930"));
    }

    #[test]
    fn slots_are_published_and_republishing_is_idempotent() {
        let state = given::<RegistryDay>([])
            .when(publish(&[("0900", 2), ("0930", 3)], BEFORE))
            .then([published(&[("0900", 2), ("0930", 3)])]);
        assert_eq!(state.registry(), Some(registry()));
        assert_eq!(state.day(), Some(DAY));
        assert_eq!(
            state.slots().collect::<Vec<_>>(),
            vec![(slot("0900"), 2, 0), (slot("0930"), 3, 0)]
        );
        // The same capacities again: nothing happens.
        given::<RegistryDay>([published(&[("0900", 2), ("0930", 3)])])
            .when(publish(&[("0900", 2), ("0930", 3)], BEFORE))
            .then([]);
        // Only new slots and changed capacities are published; publishing on the day is allowed.
        let state = given::<RegistryDay>([published(&[("0900", 2), ("0930", 3)])])
            .when(publish(&[("0900", 2), ("0930", 5), ("1000", 1)], DAY))
            .then([Event::SlotsPublished(SlotsPublished {
                registry: registry(),
                day: DAY,
                slots: vec![(slot("0930"), 5), (slot("1000"), 1)],
                published_on: DAY,
            })]);
        assert_eq!(
            state.slots().map(|(_, c, _)| c).collect::<Vec<_>>(),
            vec![2, 5, 1]
        );
    }

    #[test]
    fn publishing_is_refused_by_its_rules() {
        given::<RegistryDay>([])
            .when(publish(&[("0900", 2)], AFTER))
            .then_refused("day_passed");
        given::<RegistryDay>([])
            .when(Command::PublishSlots(PublishSlots {
                registry: RegionCode::parse("210500000000").expect("valid"),
                day: DAY,
                slots: vec![(slot("0900"), 2)],
                published_on: BEFORE,
            }))
            .then_refused("not_a_county");
        given::<RegistryDay>([published(&[("0900", 2)])])
            .when(Command::PublishSlots(PublishSlots {
                registry: RegionCode::parse("210503000000").expect("valid"),
                day: DAY,
                slots: vec![(slot("0900"), 2)],
                published_on: BEFORE,
            }))
            .then_refused("wrong_registry_day");
        given::<RegistryDay>([published(&[("0900", 2)])])
            .when(Command::PublishSlots(PublishSlots {
                registry: registry(),
                day: AFTER,
                slots: vec![(slot("0900"), 2)],
                published_on: BEFORE,
            }))
            .then_refused("wrong_registry_day");
        given::<RegistryDay>([])
            .when(publish(&[], BEFORE))
            .then_refused("no_slots");
        given::<RegistryDay>([])
            .when(publish(&[("0900", 0)], BEFORE))
            .then_refused("capacity_out_of_range");
        given::<RegistryDay>([])
            .when(publish(&[("0900", 101)], BEFORE))
            .then_refused("capacity_out_of_range");
        given::<RegistryDay>([])
            .when(publish(&[("0900", 100)], BEFORE))
            .then([published(&[("0900", 100)])]);
        given::<RegistryDay>([])
            .when(publish(&[("0900", 2), ("0900", 3)], BEFORE))
            .then_refused("duplicate_slot");
    }

    #[test]
    fn capacity_may_be_lowered_to_the_active_bookings_but_not_below() {
        let history = [
            published(&[("0900", 3)]),
            booked(1, "0900", &[1, 2]),
            booked(2, "0900", &[3, 4]),
            booked(3, "0900", &[5, 6]),
            cancelled(3),
        ];
        given::<RegistryDay>(history.clone())
            .when(publish(&[("0900", 1)], BEFORE))
            .then_refused("capacity_below_bookings");
        given::<RegistryDay>(history)
            .when(publish(&[("0900", 2)], BEFORE))
            .then([published(&[("0900", 2)])]);
    }

    #[test]
    fn booking_issues_the_next_ordinal_and_fills_the_slot() {
        let state = given::<RegistryDay>([published(&[("0900", 2)])])
            .when(book("0900", Service::Marriage, &[1, 2]))
            .then([booked(1, "0900", &[1, 2])]);
        assert_eq!(state.next_ordinal(), 2);
        assert!(state.has_pending_bookings());
        let appointment = state.appointment(&id(1)).expect("booked");
        assert_eq!(appointment.state, AppointmentState::Booked);
        assert_eq!(appointment.parties, vec![citizen(1), citizen(2)]);
        assert_eq!(state.slots().next(), Some((slot("0900"), 2, 1)));
        assert!(state.appointment(&id(2)).is_none());
        assert!(state.appointment(&other_day_id()).is_none());

        // A cancelled appointment keeps its ordinal: the next one gets 3. Booking on the day is
        // allowed.
        given::<RegistryDay>([
            published(&[("0900", 2)]),
            booked(1, "0900", &[1, 2]),
            booked(2, "0900", &[3, 4]),
            cancelled(2),
        ])
        .when(Command::Book(Book {
            booked_on: DAY,
            ..book_cmd("0900", Service::CertificateReissue, &[3])
        }))
        .then([Event::AppointmentBooked(AppointmentBooked {
            appointment: id(3),
            slot: slot("0900"),
            service: Service::CertificateReissue,
            parties: vec![citizen(3)],
            booked_on: DAY,
            rescheduled_from: None,
        })]);
    }

    #[test]
    fn booking_needs_published_slots_on_the_right_day() {
        given::<RegistryDay>([])
            .when(book("0900", Service::Marriage, &[1, 2]))
            .then_refused("no_slots_published");
        let refusal = given::<RegistryDay>([published(&[("0900", 2)])])
            .when(book("1000", Service::Marriage, &[1, 2]))
            .then_refused("slot_not_found");
        assert_eq!(refusal.kind(), RefusalKind::NotFound);
        given::<RegistryDay>([published(&[("0900", 2)])])
            .when(Command::Book(Book {
                booked_on: AFTER,
                ..book_cmd("0900", Service::Marriage, &[1, 2])
            }))
            .then_refused("day_passed");
        given::<RegistryDay>([published(&[("0900", 2)])])
            .when(Command::Book(Book {
                day: AFTER,
                ..book_cmd("0900", Service::Marriage, &[1, 2])
            }))
            .then_refused("wrong_registry_day");
    }

    #[test]
    fn a_slot_never_holds_more_than_its_capacity() {
        let full = [
            published(&[("0900", 2), ("0930", 1)]),
            booked(1, "0900", &[1, 2]),
            booked(2, "0900", &[3, 4]),
        ];
        given::<RegistryDay>(full.clone())
            .when(book("0900", Service::Marriage, &[5, 6]))
            .then_refused("slot_fully_booked");
        given::<RegistryDay>(full.clone())
            .when(book("0930", Service::Marriage, &[5, 6]))
            .then([booked(3, "0930", &[5, 6])]);
        // A cancellation frees its place; a check-in keeps it.
        let mut freed = full.to_vec();
        freed.push(cancelled(2));
        given::<RegistryDay>(freed)
            .when(book("0900", Service::Marriage, &[5, 6]))
            .then([booked(3, "0900", &[5, 6])]);
        let mut arrived = full.to_vec();
        arrived.push(checked_in(2));
        given::<RegistryDay>(arrived)
            .when(book("0900", Service::Marriage, &[5, 6]))
            .then_refused("slot_fully_booked");
    }

    #[test]
    fn the_parties_fit_the_service() {
        let open = || given::<RegistryDay>([published(&[("0900", 5)])]);
        for service in [
            Service::Marriage,
            Service::DivorceApplication,
            Service::DivorceRegistration,
        ] {
            open()
                .when(book("0900", service, &[1]))
                .then_refused("wrong_number_of_parties");
            open()
                .when(book("0900", service, &[1, 2, 3]))
                .then_refused("wrong_number_of_parties");
            open()
                .when(book("0900", service, &[1, 1]))
                .then_refused("same_person_twice");
        }
        open()
            .when(book("0900", Service::CertificateReissue, &[1, 2]))
            .then_refused("wrong_number_of_parties");
        open()
            .when(book("0900", Service::CertificateReissue, &[]))
            .then_refused("wrong_number_of_parties");
    }

    #[test]
    fn nobody_holds_two_active_appointments_on_a_day() {
        let history = [
            published(&[("0900", 5), ("1000", 5)]),
            booked(1, "0900", &[1, 2]),
        ];
        let refusal = given::<RegistryDay>(history.clone())
            .when(book("1000", Service::CertificateReissue, &[2]))
            .then_refused("already_booked");
        assert!(!refusal.to_string().contains(citizen(2).expose()));
        given::<RegistryDay>(history.clone())
            .when(book("1000", Service::Marriage, &[3, 1]))
            .then_refused("already_booked");
        let mut arrived = history.to_vec();
        arrived.push(checked_in(1));
        given::<RegistryDay>(arrived)
            .when(book("1000", Service::CertificateReissue, &[1]))
            .then_refused("already_booked");
        let mut freed = history.to_vec();
        freed.push(cancelled(1));
        given::<RegistryDay>(freed)
            .when(book("1000", Service::CertificateReissue, &[1]))
            .then([booked(2, "1000", &[1])]);
    }

    #[test]
    fn a_day_issues_at_most_999_appointments() {
        // One person books and cancels 999 times; the next booking would need ordinal 1000.
        let mut history = vec![published(&[("0900", 1)])];
        for ordinal in 1..=MAX_APPOINTMENTS_PER_DAY {
            history.push(booked(ordinal, "0900", &[1]));
            history.push(cancelled(ordinal));
        }
        let state = given::<RegistryDay>(history.clone());
        assert_eq!(state.state().next_ordinal(), 1000);
        given::<RegistryDay>(history.clone())
            .when(book("0900", Service::CertificateReissue, &[2]))
            .then_refused("day_full");
        history.truncate(history.len() - 2);
        given::<RegistryDay>(history)
            .when(book("0900", Service::CertificateReissue, &[2]))
            .then([booked(MAX_APPOINTMENTS_PER_DAY, "0900", &[2])]);
    }

    #[test]
    fn rescheduling_from_another_day_is_a_booking_that_names_it() {
        let state = given::<RegistryDay>([published(&[("0900", 5)])])
            .when(Command::Book(Book {
                rescheduled_from: Some(other_day_id()),
                ..book_cmd("0900", Service::Marriage, &[1, 2])
            }))
            .then([Event::AppointmentBooked(AppointmentBooked {
                rescheduled_from: Some(other_day_id()),
                ..booking(1, "0900", &[1, 2])
            })]);
        assert_eq!(
            state.appointment(&id(1)).and_then(|a| a.rescheduled_from),
            Some(other_day_id())
        );
        given::<RegistryDay>([published(&[("0900", 5)]), booked(1, "0900", &[3, 4])])
            .when(Command::Book(Book {
                rescheduled_from: Some(id(1)),
                ..book_cmd("0900", Service::Marriage, &[1, 2])
            }))
            .then_refused("same_day_reschedule");
    }

    #[test]
    fn appointments_are_cancelled_until_their_day() {
        let history = [published(&[("0900", 5)]), booked(1, "0900", &[1, 2])];
        let state = given::<RegistryDay>(history.clone())
            .when(cancel(1, DAY))
            .then([Event::AppointmentCancelled(AppointmentCancelled {
                appointment: id(1),
                cancelled_on: DAY,
                reason: CancelReason::ByApplicant,
            })]);
        assert_eq!(
            state.appointment(&id(1)).map(|a| a.state),
            Some(AppointmentState::Cancelled)
        );
        assert_eq!(state.slots().next(), Some((slot("0900"), 5, 0)));
        assert!(!state.has_pending_bookings());

        given::<RegistryDay>(history.clone())
            .when(cancel(1, AFTER))
            .then_refused("day_passed");
        let refusal = given::<RegistryDay>(history.clone())
            .when(cancel(2, BEFORE))
            .then_refused("appointment_not_found");
        assert_eq!(refusal.kind(), RefusalKind::NotFound);
        given::<RegistryDay>(history.clone())
            .when(Command::Cancel(Cancel {
                appointment: other_day_id(),
                cancelled_on: BEFORE,
                reason: CancelReason::ByApplicant,
            }))
            .then_refused("appointment_not_found");
        for closing in [cancelled(1), checked_in(1), no_show(1)] {
            let mut closed = history.to_vec();
            closed.push(closing);
            given::<RegistryDay>(closed)
                .when(cancel(1, BEFORE))
                .then_refused("appointment_closed");
        }
    }

    pub(crate) fn no_show(ordinal: u16) -> Event {
        Event::AppointmentNoShow(AppointmentNoShow {
            appointment: id(ordinal),
        })
    }

    #[test]
    fn a_cancellation_for_another_day_names_the_new_appointment() {
        let history = [published(&[("0900", 5)]), booked(1, "0900", &[1, 2])];
        let moved = Command::Cancel(Cancel {
            appointment: id(1),
            cancelled_on: BEFORE,
            reason: CancelReason::Rescheduled { to: other_day_id() },
        });
        let state =
            given::<RegistryDay>(history.clone())
                .when(moved)
                .then([Event::AppointmentCancelled(AppointmentCancelled {
                    appointment: id(1),
                    cancelled_on: BEFORE,
                    reason: CancelReason::Rescheduled { to: other_day_id() },
                })]);
        assert_eq!(
            state.appointment(&id(1)).and_then(|a| a.rescheduled_to),
            Some(other_day_id())
        );
        given::<RegistryDay>(history)
            .when(Command::Cancel(Cancel {
                appointment: id(1),
                cancelled_on: BEFORE,
                reason: CancelReason::Rescheduled { to: id(2) },
            }))
            .then_refused("same_day_reschedule");
    }

    #[test]
    fn applicants_check_in_on_the_day_only() {
        let history = [published(&[("0900", 5)]), booked(1, "0900", &[1, 2])];
        let state = given::<RegistryDay>(history.clone())
            .when(check_in(1, DAY))
            .then([checked_in(1)]);
        assert_eq!(
            state.appointment(&id(1)).map(|a| a.state),
            Some(AppointmentState::CheckedIn)
        );
        assert!(!state.has_pending_bookings());
        for wrong_day in [BEFORE, AFTER] {
            given::<RegistryDay>(history.clone())
                .when(check_in(1, wrong_day))
                .then_refused("not_the_appointment_day");
        }
        given::<RegistryDay>(history.clone())
            .when(check_in(2, DAY))
            .then_refused("appointment_not_found");
        for closing in [cancelled(1), checked_in(1)] {
            let mut closed = history.to_vec();
            closed.push(closing);
            given::<RegistryDay>(closed)
                .when(check_in(1, DAY))
                .then_refused("appointment_closed");
        }
    }

    #[test]
    fn no_shows_are_recorded_after_the_day() {
        let history = [
            published(&[("0900", 5)]),
            booked(1, "0900", &[1, 2]),
            booked(2, "0900", &[3, 4]),
            booked(3, "0900", &[5, 6]),
            booked(4, "0900", &[7]),
            checked_in(1),
            cancelled(2),
        ];
        let state = given::<RegistryDay>(history.clone())
            .when(Command::RecordNoShows(RecordNoShows { as_of: AFTER }))
            .then([no_show(3), no_show(4)]);
        assert!(!state.has_pending_bookings());
        assert_eq!(
            state.appointment(&id(3)).map(|a| a.state),
            Some(AppointmentState::NoShow)
        );
        given::<RegistryDay>(history)
            .when(Command::RecordNoShows(RecordNoShows { as_of: DAY }))
            .then_refused("day_not_over");
        given::<RegistryDay>([])
            .when(Command::RecordNoShows(RecordNoShows { as_of: AFTER }))
            .then([]);
        given::<RegistryDay>([
            published(&[("0900", 5)]),
            booked(1, "0900", &[1, 2]),
            checked_in(1),
        ])
        .when(Command::RecordNoShows(RecordNoShows { as_of: AFTER }))
        .then([]);
    }

    #[test]
    fn rescheduling_within_the_day_books_anew_and_cancels_the_old() {
        let history = [
            published(&[("0900", 1), ("1000", 1)]),
            booked(1, "0900", &[1, 2]),
        ];
        let state = given::<RegistryDay>(history.clone())
            .when(reschedule(1, "1000"))
            .then([
                Event::AppointmentBooked(AppointmentBooked {
                    rescheduled_from: Some(id(1)),
                    ..booking(2, "1000", &[1, 2])
                }),
                Event::AppointmentCancelled(AppointmentCancelled {
                    appointment: id(1),
                    cancelled_on: BEFORE,
                    reason: CancelReason::Rescheduled { to: id(2) },
                }),
            ]);
        assert_eq!(
            state.slots().collect::<Vec<_>>(),
            vec![(slot("0900"), 1, 0), (slot("1000"), 1, 1)]
        );
        let old = state.appointment(&id(1)).expect("kept");
        assert_eq!(
            (old.state, old.rescheduled_to),
            (AppointmentState::Cancelled, Some(id(2)))
        );
        let new = state.appointment(&id(2)).expect("booked");
        assert_eq!(new.rescheduled_from, Some(id(1)));
        assert_eq!(new.service, Service::Marriage);

        given::<RegistryDay>(history.clone())
            .when(reschedule(1, "0900"))
            .then_refused("same_slot");
        given::<RegistryDay>(history.clone())
            .when(reschedule(1, "1100"))
            .then_refused("slot_not_found");
        given::<RegistryDay>(history.clone())
            .when(reschedule(2, "1000"))
            .then_refused("appointment_not_found");
        given::<RegistryDay>(history.clone())
            .when(Command::Reschedule(Reschedule {
                appointment: id(1),
                to_slot: slot("1000"),
                on: AFTER,
            }))
            .then_refused("day_passed");
        let mut full = history.to_vec();
        full.push(booked(2, "1000", &[3, 4]));
        given::<RegistryDay>(full)
            .when(reschedule(1, "1000"))
            .then_refused("slot_fully_booked");
        let mut closed = history.to_vec();
        closed.push(checked_in(1));
        given::<RegistryDay>(closed)
            .when(reschedule(1, "1000"))
            .then_refused("appointment_closed");
    }
}
