//! An application for divorce by agreement (协议离婚), stream `divorce-<application id>`, and
//! its cooling-off period (离婚冷静期, Civil Code art. 1077).
//!
//! Article 1077: within thirty days from the day the registry receives the application, either
//! party who no longer wants the divorce may withdraw it; within thirty days after that period,
//! both parties must come in person to ask for the divorce certificate (离婚证), or the
//! application counts as withdrawn (视为撤回). Periods counted in days start the day after the
//! event (art. 201), so for an application received on day D:
//!
//! | days | what may happen |
//! |---|---|
//! | D | the application is received ([`Apply`]) |
//! | D+1 ..= D+30 | the cooling-off period: either party may withdraw ([`Withdraw`]), also on D |
//! | D+31 ..= D+60 | both parties may register the divorce ([`Register`]) |
//! | D+61 and after | the application has lapsed ([`Expire`] records it) |
//!
//! [`cooling_off_dates`] computes the two boundaries, D+30 and D+60, once, when the application
//! is received; they are stored in the [`Applied`] event.
//!
//! An application's life:
//!
//! 1. **apply**: both parties come on their appointment (the id of the application is `D` + the
//!    appointment id) and pass the identity checks (身份核验);
//! 2. then exactly one of
//!    - **withdraw**: one party, during the cooling-off period;
//!    - **register**: both parties, on a new appointment at the same registry in the
//!      registration window, pass the identity checks again and receive the certificate (`L` + that appointment id);
//!    - **lapse**: nobody came in the window. The aggregate reads no clock: a scheduler sends
//!      [`Expire`] with today's date every day (and at start-up for the days the service was
//!      down); [`DivorceApplication::lapses_after`] tells it when an application is due.
//! 3. scanned documents of the file (档案) may be attached on or after the day of the
//!    application, also once it is closed; attaching the same document again does nothing.
//!
//! A historical divorce is entered from the paper archive (历史离婚档案补录, [`Backfill`]): its id
//! is `DA-` + the pseudonym of the archive reference (档案号, [`ApplicationId::backfilled`]) and its certificate
//! number is as printed. The archive records the registered divorce only, so a back-filled
//! application starts registered, with no appointment and no identity checks; its
//! `applied_on`, `cooling_off_ends_on` and `last_day_to_register` are its registration day (the
//! cooling-off period did not exist before 2021).
//!
//! A closed application (withdrawn, lapsed, registered or back-filled) accepts nothing but
//! documents.
//!
//! What this aggregate cannot see: whether the marriage still holds and whether the parties are
//! its parties. The application layer checks both against the marriage record before it sends
//! [`Apply`] (with [`check_marriage`]), and, when the divorce is registered or back-filled,
//! dissolves the marriage and changes both persons' status
//! ([`crate::registration::dissolve_by_divorce`]).

use minzheng_kit::aggregate::{Aggregate, DomainError, RefusalKind};
use minzheng_types::{BoundedText, CitizenId, RegionCode, add_days};
use time::Date;

use crate::{
    ids::{self, ApplicationId, AppointmentId, ArchiveReference, MarriageId},
    marriage::{ArchiveDocument, Marriage},
    verification::{self, MissingVerification, Party, Verification},
};

/// Length of the cooling-off period (离婚冷静期) in days, counted from the day after the
/// application was received.
pub const COOLING_OFF_DAYS: i64 = 30;

/// Length of the window after the cooling-off period in which both parties must come back for
/// the certificate, in days.
pub const REGISTRATION_WINDOW_DAYS: i64 = 30;

/// For an application received on `applied_on` (day D): `(cooling_off_ends_on,
/// last_day_to_register)`, that is (D+30, D+60). A party may withdraw up to and including the
/// first; the divorce may be registered from the day after it up to and including the second.
/// (At the very end of the calendar the dates stop at [`Date::MAX`].)
pub fn cooling_off_dates(applied_on: Date) -> (Date, Date) {
    let later = |days| add_days(applied_on, days).unwrap_or(Date::MAX);
    (
        later(COOLING_OFF_DAYS),
        later(COOLING_OFF_DAYS + REGISTRATION_WINDOW_DAYS),
    )
}

/// Where an application stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Received, in the cooling-off period or the registration window.
    Pending,
    /// A party withdrew it (撤回).
    Withdrawn { on: Date, by: CitizenId },
    /// Nobody came back in time: it counts as withdrawn (视为撤回) from `on`.
    Lapsed { on: Date },
    /// The divorce was registered and the certificate issued.
    Registered {
        on: Date,
        certificate_number: String,
        /// The appointment the parties came back on; `None` for a divorce back-filled from the
        /// archive.
        appointment: Option<AppointmentId>,
    },
}

/// The facts about a received application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub id: ApplicationId,
    /// The marriage to dissolve.
    pub marriage: MarriageId,
    /// The registry that received it: a county-level division.
    pub registry: RegionCode,
    /// The day it was received (for a back-filled divorce: its registration day).
    pub applied_on: Date,
    pub parties: [Party; 2],
    /// The last day of the cooling-off period, D+30 (for a back-filled divorce: its
    /// registration day).
    pub cooling_off_ends_on: Date,
    /// The last day the divorce may be registered, D+60 (for a back-filled divorce: its
    /// registration day).
    pub last_day_to_register: Date,
    /// The appointment the parties applied on; `None` for a divorce back-filled from the
    /// archive.
    pub appointment: Option<AppointmentId>,
    /// The archive reference (档案号) of a divorce back-filled from the archive.
    pub backfilled: Option<ArchiveReference>,
    pub state: State,
    pub documents: Vec<ArchiveDocument>,
}

impl Application {
    fn party_index(&self, citizen: &CitizenId) -> Option<usize> {
        self.parties.iter().position(|p| &p.citizen == citizen)
    }
}

/// The state of one application; `Default` is one not received yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DivorceApplication {
    application: Option<Application>,
}

impl DivorceApplication {
    /// The facts, `None` before the application is received.
    pub fn application(&self) -> Option<&Application> {
        self.application.as_ref()
    }

    /// Whether it is received and neither withdrawn, lapsed nor registered.
    pub fn is_pending(&self) -> bool {
        self.application
            .as_ref()
            .is_some_and(|a| a.state == State::Pending)
    }

    /// For the scheduler: while pending, the last day to register; an [`Expire`] with any later
    /// day lapses the application.
    pub fn lapses_after(&self) -> Option<Date> {
        self.application
            .as_ref()
            .filter(|a| a.state == State::Pending)
            .map(|a| a.last_day_to_register)
    }
}

/// For the application layer, before [`Apply`]: `marriage` is in the register and not
/// dissolved, and `parties` are its two parties (in either order).
pub fn check_marriage(marriage: &Marriage, parties: &[Party; 2]) -> Result<(), Error> {
    if marriage.record().is_none() {
        return Err(Error::MarriageNotFound);
    }
    if !marriage.is_current() {
        return Err(Error::MarriageDissolved);
    }
    match parties.each_ref().map(|p| marriage.party_index(&p.citizen)) {
        [Some(a), Some(b)] if a != b => Ok(()),
        _ => Err(Error::NotTheMarriagesParties),
    }
}

/// What can be asked of a divorce application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Apply(Apply),
    Withdraw(Withdraw),
    Register(Register),
    Backfill(Backfill),
    Expire(Expire),
    AttachDocument(AttachDocument),
}

/// Receive the application: both parties came on `appointment`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Apply {
    pub appointment: AppointmentId,
    pub marriage: MarriageId,
    pub parties: [Party; 2],
    /// The identity checks made; each party needs every kind passed.
    pub verifications: Vec<Verification>,
    /// Today: the appointment's day.
    pub on: Date,
}

/// One party withdraws the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdraw {
    pub by: CitizenId,
    pub on: Date,
}

/// Both parties came back on `appointment`: register the divorce and issue the certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    pub appointment: AppointmentId,
    pub verifications: Vec<Verification>,
    /// Today: the appointment's day.
    pub on: Date,
}

/// Enter a registered divorce from the paper archive (历史离婚档案补录).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backfill {
    /// `DA-` + the pseudonym of the archive reference ([`ApplicationId::backfilled`]), given by
    /// the application, which holds the key.
    pub id: ApplicationId,
    pub archive: ArchiveReference,
    /// The marriage it dissolved.
    pub marriage: MarriageId,
    /// The marriage's two parties, from its record.
    pub parties: [Party; 2],
    /// The registry that registered it: a county-level division.
    pub registry: RegionCode,
    /// As printed, e.g. "本离字第0045号".
    pub certificate_number: BoundedText,
    /// The day it was registered.
    pub on: Date,
}

/// The scheduler's daily question: has the application lapsed by `as_of` (today)?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expire {
    pub as_of: Date,
}

/// Attach a scanned document to the application's file. Attaching the same document (same id
/// and digest) again does nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachDocument {
    pub document: ArchiveDocument,
}

/// What happened to a divorce application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Applied(Applied),
    Withdrawn(Withdrawn),
    Lapsed(Lapsed),
    Registered(Registered),
    Backfilled(Backfilled),
    DocumentAttached(DocumentAttached),
}

/// An application was received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub id: ApplicationId,
    pub marriage: MarriageId,
    pub registry: RegionCode,
    pub applied_on: Date,
    pub parties: [Party; 2],
    pub verifications: Vec<Verification>,
    /// D+30, see [`cooling_off_dates`].
    pub cooling_off_ends_on: Date,
    /// D+60, see [`cooling_off_dates`].
    pub last_day_to_register: Date,
    pub appointment: AppointmentId,
}

/// A party withdrew the application during the cooling-off period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawn {
    pub id: ApplicationId,
    pub withdrawn_on: Date,
    pub by: CitizenId,
}

/// Nobody came back in time: the application counts as withdrawn from `lapsed_on`, the day
/// after the last day to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lapsed {
    pub id: ApplicationId,
    pub lapsed_on: Date,
}

/// The divorce was registered and its certificate issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub id: ApplicationId,
    /// The divorce certificate number (离婚证字号), `L` + the appointment id.
    pub certificate_number: String,
    pub registered_on: Date,
    pub marriage: MarriageId,
    pub registry: RegionCode,
    pub verifications: Vec<Verification>,
    /// The appointment the parties came back on.
    pub appointment: AppointmentId,
}

/// A registered divorce was entered from the paper archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backfilled {
    /// `DA-` + the pseudonym of the archive reference (`DA-` + the reference in ids stored
    /// before).
    pub id: ApplicationId,
    pub marriage: MarriageId,
    /// As printed.
    pub certificate_number: String,
    pub registry: RegionCode,
    pub registered_on: Date,
    pub parties: [Party; 2],
    pub archive: ArchiveReference,
}

/// A scanned document was attached to the application's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentAttached {
    pub id: ApplicationId,
    pub document: ArchiveDocument,
}

/// A rule that refused a divorce-application command. No message names a citizen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("no divorce application has been received with this id")]
    NotFound,
    #[error("the divorce application has already been received")]
    AlreadyApplied,
    #[error("the marriage is not in the register")]
    MarriageNotFound,
    #[error("the marriage has already been dissolved")]
    MarriageDissolved,
    #[error("the applicants are not the two parties of the marriage")]
    NotTheMarriagesParties,
    #[error("the date is not the day of the appointment")]
    NotTheAppointmentDay,
    #[error("the appointment is at another registry than the one that received the application")]
    OtherRegistry,
    #[error("identity check missing: {0}")]
    VerificationMissing(#[from] MissingVerification),
    #[error("only a party to the application may withdraw it")]
    NotAParty,
    #[error("the divorce application was withdrawn, has lapsed or was registered")]
    Closed,
    #[error("the date is before the application was received")]
    BeforeApplication,
    #[error("the cooling-off period is over: the application can no longer be withdrawn")]
    CoolingOffOver,
    #[error("the cooling-off period is not over: the divorce cannot be registered yet")]
    CoolingOffNotOver,
    #[error("the last day to register the divorce has passed: the application has lapsed")]
    Lapsed,
    #[error("the last day to register the divorce has not passed yet")]
    NotYetLapsed,
    #[error("another document with this id is already attached")]
    DocumentAlreadyAttached,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::NotFound => "application_not_found",
            Error::AlreadyApplied => "already_applied",
            Error::MarriageNotFound => "marriage_not_found",
            Error::MarriageDissolved => "marriage_dissolved",
            Error::NotTheMarriagesParties => "not_the_marriages_parties",
            Error::NotTheAppointmentDay => "not_the_appointment_day",
            Error::OtherRegistry => "other_registry",
            Error::VerificationMissing(_) => "verification_missing",
            Error::NotAParty => "not_a_party",
            Error::Closed => "application_closed",
            Error::BeforeApplication => "before_application",
            Error::CoolingOffOver => "cooling_off_over",
            Error::CoolingOffNotOver => "cooling_off_not_over",
            Error::Lapsed => "application_lapsed",
            Error::NotYetLapsed => "not_yet_lapsed",
            Error::DocumentAlreadyAttached => "document_already_attached",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            Error::NotFound | Error::MarriageNotFound => RefusalKind::NotFound,
            _ => RefusalKind::FailedPrecondition,
        }
    }
}

impl Aggregate for DivorceApplication {
    const CATEGORY: &'static str = "divorce";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        let c = match command {
            Command::Apply(c) => c,
            Command::Backfill(c) => {
                if self.application.is_some() {
                    return Err(Error::AlreadyApplied);
                }
                return Ok(vec![Event::Backfilled(Backfilled {
                    id: c.id.clone(),
                    marriage: c.marriage.clone(),
                    certificate_number: c.certificate_number.as_str().to_owned(),
                    registry: c.registry,
                    registered_on: c.on,
                    parties: c.parties.clone(),
                    archive: c.archive.clone(),
                })]);
            }
            _ => {
                let application = self.application.as_ref().ok_or(Error::NotFound)?;
                return follow_up(application, command);
            }
        };
        if self.application.is_some() {
            return Err(Error::AlreadyApplied);
        }
        if c.on != c.appointment.day() {
            return Err(Error::NotTheAppointmentDay);
        }
        let [a, b] = &c.parties;
        verification::require_passed(&c.verifications, &[&a.citizen, &b.citizen])?;
        let (cooling_off_ends_on, last_day_to_register) = cooling_off_dates(c.on);
        Ok(vec![Event::Applied(Applied {
            id: ApplicationId::received(&c.appointment),
            marriage: c.marriage.clone(),
            registry: c.appointment.registry(),
            applied_on: c.on,
            parties: c.parties.clone(),
            verifications: c.verifications.clone(),
            cooling_off_ends_on,
            last_day_to_register,
            appointment: c.appointment,
        })])
    }

    fn apply(mut self, event: &Event) -> Self {
        if let Event::Applied(e) = event {
            self.application = Some(Application {
                id: e.id.clone(),
                marriage: e.marriage.clone(),
                registry: e.registry,
                applied_on: e.applied_on,
                parties: e.parties.clone(),
                cooling_off_ends_on: e.cooling_off_ends_on,
                last_day_to_register: e.last_day_to_register,
                appointment: Some(e.appointment),
                backfilled: None,
                state: State::Pending,
                documents: Vec::new(),
            });
            return self;
        }
        if let Event::Backfilled(e) = event {
            self.application = Some(Application {
                id: e.id.clone(),
                marriage: e.marriage.clone(),
                registry: e.registry,
                applied_on: e.registered_on,
                parties: e.parties.clone(),
                cooling_off_ends_on: e.registered_on,
                last_day_to_register: e.registered_on,
                appointment: None,
                backfilled: Some(e.archive.clone()),
                state: State::Registered {
                    on: e.registered_on,
                    certificate_number: e.certificate_number.clone(),
                    appointment: None,
                },
                documents: Vec::new(),
            });
            return self;
        }
        let Some(application) = &mut self.application else {
            return self;
        };
        match event {
            Event::Applied(_) | Event::Backfilled(_) => {}
            Event::Withdrawn(e) => {
                application.state = State::Withdrawn {
                    on: e.withdrawn_on,
                    by: e.by.clone(),
                };
            }
            Event::Lapsed(e) => application.state = State::Lapsed { on: e.lapsed_on },
            Event::Registered(e) => {
                application.state = State::Registered {
                    on: e.registered_on,
                    certificate_number: e.certificate_number.clone(),
                    appointment: Some(e.appointment),
                };
            }
            Event::DocumentAttached(e) => application.documents.push(e.document.clone()),
        }
        self
    }
}

/// Every command after the application was received.
fn follow_up(application: &Application, command: &Command) -> Result<Vec<Event>, Error> {
    let id = application.id.clone();
    let pending = application.state == State::Pending;
    match command {
        Command::Apply(_) | Command::Backfill(_) => Err(Error::AlreadyApplied),
        Command::Withdraw(c) => {
            if application.party_index(&c.by).is_none() {
                return Err(Error::NotAParty);
            }
            if !pending {
                return Err(Error::Closed);
            }
            if c.on < application.applied_on {
                return Err(Error::BeforeApplication);
            }
            if c.on > application.cooling_off_ends_on {
                return Err(Error::CoolingOffOver);
            }
            Ok(vec![Event::Withdrawn(Withdrawn {
                id,
                withdrawn_on: c.on,
                by: c.by.clone(),
            })])
        }
        Command::Register(c) => {
            if !pending {
                return Err(Error::Closed);
            }
            if c.on != c.appointment.day() {
                return Err(Error::NotTheAppointmentDay);
            }
            if c.appointment.registry() != application.registry {
                return Err(Error::OtherRegistry);
            }
            if c.on <= application.cooling_off_ends_on {
                return Err(Error::CoolingOffNotOver);
            }
            if c.on > application.last_day_to_register {
                return Err(Error::Lapsed);
            }
            let [a, b] = &application.parties;
            verification::require_passed(&c.verifications, &[&a.citizen, &b.citizen])?;
            Ok(vec![Event::Registered(Registered {
                id,
                certificate_number: ids::divorce_certificate_number(&c.appointment),
                registered_on: c.on,
                marriage: application.marriage.clone(),
                registry: application.registry,
                verifications: c.verifications.clone(),
                appointment: c.appointment,
            })])
        }
        Command::Expire(c) => {
            if !pending {
                return Err(Error::Closed);
            }
            // No next day only at the end of the calendar, where nothing lapses.
            match application.last_day_to_register.next_day() {
                Some(lapsed_on) if c.as_of >= lapsed_on => {
                    Ok(vec![Event::Lapsed(Lapsed { id, lapsed_on })])
                }
                _ => Err(Error::NotYetLapsed),
            }
        }
        Command::AttachDocument(c) => {
            let document = &c.document;
            if let Some(attached) = application.documents.iter().find(|d| d.id == document.id) {
                return if attached.sha256 == document.sha256 {
                    Ok(Vec::new())
                } else {
                    Err(Error::DocumentAlreadyAttached)
                };
            }
            if document.attached_on < application.applied_on {
                return Err(Error::BeforeApplication);
            }
            Ok(vec![Event::DocumentAttached(DocumentAttached {
                id,
                document: document.clone(),
            })])
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;
    use crate::verification::{
        Kind,
        tests::{citizen, passed, text},
    };
    use crate::{
        ids::DocumentId,
        marriage::{self, Sha256},
    };

    /// Day D: the application is received.
    pub(crate) const D: Date = date!(2025 - 07 - 01);

    pub(crate) fn day(offset: i64) -> Date {
        add_days(D, offset).expect("in range")
    }

    pub(crate) fn registry() -> RegionCode {
        RegionCode::parse("210502000000").expect("valid")
    }

    pub(crate) fn appointment(on: Date, ordinal: u16) -> AppointmentId {
        AppointmentId::new(registry(), on, ordinal).expect("valid")
    }

    pub(crate) fn marriage() -> MarriageId {
        // The marriage back-filled in the marriage module's tests, of the same two parties.
        MarriageId::parse("A-9c1e5f0c9c1e5f0c9c1e5f0c9c1e5f0c").expect("valid")
    }

    pub(crate) fn wife() -> CitizenId {
        citizen("11010519491231002X")
    }

    pub(crate) fn husband() -> CitizenId {
        citizen("110105195001010012")
    }

    fn stranger() -> CitizenId {
        // Male, born 1960-03-15.
        citizen("110105196003150013")
    }

    pub(crate) fn parties() -> [Party; 2] {
        [
            Party {
                citizen: wife(),
                name: text("王秀英"),
            },
            Party {
                citizen: husband(),
                name: text("李建国"),
            },
        ]
    }

    pub(crate) fn both_passed() -> Vec<Verification> {
        let mut checks = passed(&wife());
        checks.extend(passed(&husband()));
        checks
    }

    pub(crate) fn id() -> ApplicationId {
        ApplicationId::received(&appointment(D, 4))
    }

    fn apply() -> Command {
        Command::Apply(Apply {
            appointment: appointment(D, 4),
            marriage: marriage(),
            parties: parties(),
            verifications: both_passed(),
            on: D,
        })
    }

    pub(crate) fn applied() -> Event {
        Event::Applied(Applied {
            id: id(),
            marriage: marriage(),
            registry: registry(),
            applied_on: D,
            parties: parties(),
            verifications: both_passed(),
            cooling_off_ends_on: day(30),
            last_day_to_register: day(60),
            appointment: appointment(D, 4),
        })
    }

    fn withdraw(by: CitizenId, on: Date) -> Command {
        Command::Withdraw(Withdraw { by, on })
    }

    pub(crate) fn withdrawn(by: CitizenId, on: Date) -> Event {
        Event::Withdrawn(Withdrawn {
            id: id(),
            withdrawn_on: on,
            by,
        })
    }

    fn register(on: Date) -> Command {
        Command::Register(Register {
            appointment: appointment(on, 2),
            verifications: both_passed(),
            on,
        })
    }

    pub(crate) fn registered(on: Date) -> Event {
        Event::Registered(Registered {
            id: id(),
            certificate_number: ids::divorce_certificate_number(&appointment(on, 2)),
            registered_on: on,
            marriage: marriage(),
            registry: registry(),
            verifications: both_passed(),
            appointment: appointment(on, 2),
        })
    }

    /// The divorce of the marriage back-filled in the marriage module's tests, from the archive.
    pub(crate) fn backfill() -> Backfill {
        Backfill {
            id: backfilled_id(),
            archive: ArchiveReference::parse("BX-1990-0045").expect("valid"),
            marriage: marriage(),
            parties: parties(),
            registry: registry(),
            certificate_number: text("本离字第0045号"),
            on: date!(1990 - 03 - 01),
        }
    }

    pub(crate) fn backfilled_id() -> ApplicationId {
        ApplicationId::parse("DA-9c1e5f0c9c1e5f0c9c1e5f0c9c1e5f0c").expect("valid")
    }

    pub(crate) fn backfilled() -> Event {
        Event::Backfilled(Backfilled {
            id: backfilled_id(),
            marriage: marriage(),
            certificate_number: "本离字第0045号".into(),
            registry: registry(),
            registered_on: date!(1990 - 03 - 01),
            parties: parties(),
            archive: ArchiveReference::parse("BX-1990-0045").expect("valid"),
        })
    }

    pub(crate) fn lapsed() -> Event {
        Event::Lapsed(Lapsed {
            id: id(),
            lapsed_on: day(61),
        })
    }

    fn expire(as_of: Date) -> Command {
        Command::Expire(Expire { as_of })
    }

    /// A document whose digest is 32 times `byte`.
    pub(crate) fn document(id: &str, byte: u8, attached_on: Date) -> ArchiveDocument {
        ArchiveDocument {
            id: DocumentId::parse(id).expect("valid"),
            sha256: Sha256::from_bytes([byte; 32]),
            storage_uri: text("s3://bx-archive/divorce/2025/0701-004-p1.pdf"),
            media_type: text("application/pdf"),
            attached_on,
        }
    }

    fn attach(document: ArchiveDocument) -> Command {
        Command::AttachDocument(AttachDocument { document })
    }

    pub(crate) fn attached(document: ArchiveDocument) -> Event {
        Event::DocumentAttached(DocumentAttached { id: id(), document })
    }

    #[test]
    fn the_periods_follow_article_1077() {
        assert_eq!(
            cooling_off_dates(date!(2025 - 07 - 01)),
            (date!(2025 - 07 - 31), date!(2025 - 08 - 30))
        );
        // Across a year end and February of a leap year.
        assert_eq!(
            cooling_off_dates(date!(2027 - 12 - 31)),
            (date!(2028 - 01 - 30), date!(2028 - 02 - 29))
        );
        assert_eq!(cooling_off_dates(Date::MAX), (Date::MAX, Date::MAX));
    }

    #[test]
    fn an_application_is_received_with_its_periods() {
        let state = given::<DivorceApplication>([])
            .when(apply())
            .then([applied()]);
        let application = state.application().expect("received");
        assert_eq!(application.id.as_str(), "D210502-20250701-004");
        assert_eq!(application.cooling_off_ends_on, date!(2025 - 07 - 31));
        assert_eq!(application.last_day_to_register, date!(2025 - 08 - 30));
        assert_eq!(application.state, State::Pending);
        assert!(state.is_pending());
        assert_eq!(state.lapses_after(), Some(day(60)));
    }

    #[test]
    fn an_application_is_received_once() {
        given::<DivorceApplication>([applied()])
            .when(apply())
            .then_refused("already_applied");
    }

    #[test]
    fn an_application_is_received_on_its_appointment_day() {
        let Command::Apply(c) = apply() else {
            unreachable!()
        };
        given::<DivorceApplication>([])
            .when(Command::Apply(Apply { on: day(1), ..c }))
            .then_refused("not_the_appointment_day");
    }

    #[test]
    fn both_parties_must_pass_every_check_to_apply() {
        let Command::Apply(c) = apply() else {
            unreachable!()
        };
        let without_husbands_signature = both_passed()
            .into_iter()
            .filter(|v| !(v.party == husband() && v.kind == Kind::ESignature))
            .collect();
        let refusal = given::<DivorceApplication>([])
            .when(Command::Apply(Apply {
                verifications: without_husbands_signature,
                ..c
            }))
            .then_refused("verification_missing");
        assert_eq!(
            refusal.to_string(),
            "identity check missing: party 2 has no passed e_signature check"
        );
    }

    #[test]
    fn nothing_happens_to_an_application_not_received() {
        for command in [
            withdraw(wife(), day(1)),
            register(day(31)),
            expire(day(61)),
            attach(document("p1", 0xaa, D)),
        ] {
            let refusal = given::<DivorceApplication>([])
                .when(command)
                .then_refused("application_not_found");
            assert_eq!(refusal.kind(), RefusalKind::NotFound);
        }
        let nothing = given::<DivorceApplication>([]);
        assert!(!nothing.state().is_pending());
        assert_eq!(nothing.state().lapses_after(), None);
    }

    #[test]
    fn either_party_may_withdraw_up_to_the_last_day_of_the_cooling_off_period() {
        let state = given::<DivorceApplication>([applied()])
            .when(withdraw(husband(), day(29)))
            .then([withdrawn(husband(), day(29))]);
        assert_eq!(
            state.application().map(|a| &a.state),
            Some(&State::Withdrawn {
                on: day(29),
                by: husband()
            })
        );
        assert!(!state.is_pending());
        assert_eq!(state.lapses_after(), None);
        for on in [D, day(30)] {
            given::<DivorceApplication>([applied()])
                .when(withdraw(wife(), on))
                .then([withdrawn(wife(), on)]);
        }
    }

    #[test]
    fn no_withdrawal_after_the_cooling_off_period() {
        for on in [day(31), day(60)] {
            given::<DivorceApplication>([applied()])
                .when(withdraw(wife(), on))
                .then_refused("cooling_off_over");
        }
    }

    #[test]
    fn no_withdrawal_dated_before_the_application() {
        given::<DivorceApplication>([applied()])
            .when(withdraw(wife(), day(-1)))
            .then_refused("before_application");
    }

    #[test]
    fn only_a_party_may_withdraw() {
        let refusal = given::<DivorceApplication>([applied()])
            .when(withdraw(stranger(), day(5)))
            .then_refused("not_a_party");
        assert!(!refusal.to_string().contains(stranger().expose()));
    }

    #[test]
    fn the_divorce_is_registered_in_the_window_after_the_cooling_off_period() {
        for on in [day(31), day(60)] {
            let state = given::<DivorceApplication>([applied()])
                .when(register(on))
                .then([registered(on)]);
            assert_eq!(
                state.application().map(|a| &a.state),
                Some(&State::Registered {
                    on,
                    certificate_number: ids::divorce_certificate_number(&appointment(on, 2)),
                    appointment: Some(appointment(on, 2)),
                })
            );
            assert!(!state.is_pending());
        }
        let Event::Registered(e) = registered(day(31)) else {
            unreachable!()
        };
        assert_eq!(e.certificate_number, "L210502-20250801-002");
    }

    #[test]
    fn no_registration_during_the_cooling_off_period() {
        for on in [D, day(1), day(30)] {
            given::<DivorceApplication>([applied()])
                .when(register(on))
                .then_refused("cooling_off_not_over");
        }
    }

    #[test]
    fn no_registration_after_the_last_day() {
        for on in [day(61), day(200)] {
            given::<DivorceApplication>([applied()])
                .when(register(on))
                .then_refused("application_lapsed");
        }
    }

    #[test]
    fn registration_is_on_the_appointment_day_at_the_registry_that_received_it() {
        given::<DivorceApplication>([applied()])
            .when(Command::Register(Register {
                appointment: appointment(day(35), 2),
                verifications: both_passed(),
                on: day(36),
            }))
            .then_refused("not_the_appointment_day");
        let elsewhere = AppointmentId::new(
            RegionCode::parse("210503000000").expect("valid"),
            day(35),
            2,
        )
        .expect("valid");
        given::<DivorceApplication>([applied()])
            .when(Command::Register(Register {
                appointment: elsewhere,
                verifications: both_passed(),
                on: day(35),
            }))
            .then_refused("other_registry");
    }

    #[test]
    fn both_parties_of_the_application_must_pass_every_check_to_register() {
        // The checks of someone else do not stand in for a party's.
        let mut checks = passed(&wife());
        checks.extend(passed(&stranger()));
        let refusal = given::<DivorceApplication>([applied()])
            .when(Command::Register(Register {
                appointment: appointment(day(40), 2),
                verifications: checks,
                on: day(40),
            }))
            .then_refused("verification_missing");
        assert_eq!(
            refusal.to_string(),
            "identity check missing: party 2 has no passed id_document check"
        );
    }

    #[test]
    fn an_unclaimed_application_lapses_the_day_after_the_last_day_to_register() {
        let state = given::<DivorceApplication>([applied()])
            .when(expire(day(61)))
            .then([lapsed()]);
        assert_eq!(
            state.application().map(|a| &a.state),
            Some(&State::Lapsed { on: day(61) })
        );
        assert_eq!(state.lapses_after(), None);
        // A scheduler that was down records the lapse late, with the same day.
        given::<DivorceApplication>([applied()])
            .when(expire(day(75)))
            .then([lapsed()]);
    }

    #[test]
    fn an_application_does_not_lapse_early() {
        for as_of in [D, day(30), day(60)] {
            given::<DivorceApplication>([applied()])
                .when(expire(as_of))
                .then_refused("not_yet_lapsed");
        }
    }

    #[test]
    fn a_closed_application_accepts_nothing_but_documents() {
        for closed in [withdrawn(wife(), day(10)), lapsed(), registered(day(45))] {
            for command in [
                withdraw(husband(), day(20)),
                register(day(50)),
                expire(day(90)),
            ] {
                given::<DivorceApplication>([applied(), closed.clone()])
                    .when(command)
                    .then_refused("application_closed");
            }
            given::<DivorceApplication>([applied(), closed.clone()])
                .when(apply())
                .then_refused("already_applied");
            given::<DivorceApplication>([applied(), closed.clone()])
                .when(attach(document("p1", 0xaa, day(100))))
                .then([attached(document("p1", 0xaa, day(100)))]);
        }
        // The same appointment twice: the second registration is refused.
        given::<DivorceApplication>([applied(), registered(day(45))])
            .when(register(day(45)))
            .then_refused("application_closed");
    }

    #[test]
    fn documents_are_attached_once_per_id() {
        let state = given::<DivorceApplication>([applied()])
            .when(attach(document("p1", 0xaa, D)))
            .then([attached(document("p1", 0xaa, D))]);
        assert_eq!(
            state.application().map(|a| a.documents.clone()),
            Some(vec![document("p1", 0xaa, D)])
        );
        let with_p1 = [applied(), attached(document("p1", 0xaa, D))];
        // The same document again (another day, even): nothing to do.
        given::<DivorceApplication>(with_p1.clone())
            .when(attach(document("p1", 0xaa, day(3))))
            .then([]);
        given::<DivorceApplication>(with_p1.clone())
            .when(attach(document("p1", 0xbb, D)))
            .then_refused("document_already_attached");
        given::<DivorceApplication>(with_p1)
            .when(attach(document("p2", 0xbb, day(2))))
            .then([attached(document("p2", 0xbb, day(2)))]);
    }

    #[test]
    fn a_divorce_from_the_archive_is_entered_registered() {
        let state = given::<DivorceApplication>([])
            .when(Command::Backfill(backfill()))
            .then([backfilled()]);
        assert!(!state.is_pending());
        assert_eq!(state.lapses_after(), None);
        let application = state.application().expect("entered");
        assert_eq!(
            application.id.as_str(),
            "DA-9c1e5f0c9c1e5f0c9c1e5f0c9c1e5f0c"
        );
        assert_eq!(application.appointment, None);
        assert_eq!(application.backfilled, Some(backfill().archive));
        assert_eq!(application.parties, parties());
        assert_eq!(
            application.state,
            State::Registered {
                on: date!(1990 - 03 - 01),
                certificate_number: "本离字第0045号".into(),
                appointment: None,
            }
        );
    }

    #[test]
    fn a_divorce_is_entered_from_the_archive_once_and_only_into_a_new_stream() {
        for existing in [applied(), backfilled()] {
            given::<DivorceApplication>([existing])
                .when(Command::Backfill(backfill()))
                .then_refused("already_applied");
        }
        given::<DivorceApplication>([backfilled()])
            .when(apply())
            .then_refused("already_applied");
    }

    #[test]
    fn a_divorce_from_the_archive_accepts_nothing_but_documents() {
        for command in [
            withdraw(wife(), date!(1990 - 03 - 02)),
            register(day(31)),
            expire(day(90)),
        ] {
            given::<DivorceApplication>([backfilled()])
                .when(command)
                .then_refused("application_closed");
        }
        given::<DivorceApplication>([backfilled()])
            .when(attach(document("p1", 0xaa, D)))
            .then([Event::DocumentAttached(DocumentAttached {
                id: backfilled_id(),
                document: document("p1", 0xaa, D),
            })]);
        given::<DivorceApplication>([backfilled()])
            .when(attach(document("p1", 0xaa, date!(1990 - 02 - 28))))
            .then_refused("before_application");
    }

    #[test]
    fn no_document_dated_before_the_application() {
        given::<DivorceApplication>([applied()])
            .when(attach(document("p1", 0xaa, day(-1))))
            .then_refused("before_application");
    }

    #[test]
    fn the_applicants_are_the_parties_of_a_current_marriage() {
        let backfilled = marriage::tests::backfilled();
        let current = given::<Marriage>([backfilled.clone()]);
        assert_eq!(check_marriage(current.state(), &parties()), Ok(()));
        let [a, b] = parties();
        assert_eq!(
            check_marriage(current.state(), &[b.clone(), a.clone()]),
            Ok(())
        );

        let refusal = |marriage: &Marriage, parties: &[Party; 2]| {
            check_marriage(marriage, parties)
                .expect_err("refused")
                .rule()
                .to_owned()
        };
        let none = Marriage::default();
        assert_eq!(refusal(&none, &parties()), "marriage_not_found");
        assert_eq!(
            check_marriage(&none, &parties()).map_err(|e| e.kind()),
            Err(RefusalKind::NotFound)
        );
        let dissolved = given::<Marriage>([
            backfilled,
            marriage::Event::Dissolved(marriage::Dissolved {
                id: marriage(),
                dissolved_on: date!(2001 - 03 - 01),
                cause: marriage::Cause::Death,
                record: "0a".repeat(16),
            }),
        ]);
        assert_eq!(refusal(dissolved.state(), &parties()), "marriage_dissolved");

        let someone_else = Party {
            citizen: stranger(),
            name: text("赵强"),
        };
        for applicants in [
            [a.clone(), someone_else.clone()],
            [someone_else, b],
            [a.clone(), a],
        ] {
            assert_eq!(
                refusal(current.state(), &applicants),
                "not_the_marriages_parties"
            );
        }
    }
}
