//! A marriage record (结婚登记): stream `marriage-<id>`.
//!
//! A marriage enters the register in one of two ways:
//!
//! - **registered** at a county-level registry on the parties' appointment (预约登记): its id and
//!   certificate number (结婚证字号) are `J` + the appointment id ([`MarriageId::registered`]),
//!   and the registration records the identity checks (身份核验) of both parties;
//! - **back-filled** from the paper archive (档案电子化): its id is `A-` + the pseudonym of the
//!   archive reference (档案号, which a clerk types and so is never a key itself; the reference is
//!   kept in the event) and its certificate number is as printed; there are no identity checks to
//!   record.
//!
//! Either way the Civil Code's conditions hold on the registration day: the parties are two
//! different persons, one man and one woman (art. 1049 with art. 1046), the man at least 22 and
//! the woman at least 20 completed years old (周岁, art. 1047). A registration also needs both
//! parties to have passed every identity check ([`verification::require_passed`]) and takes
//! place on the appointment's day. That neither party is currently married (no bigamy, 重婚,
//! art. 1042) nor deceased is decided with their person records in [`crate::registration`].
//!
//! Afterwards:
//!
//! 1. a party who lost the certificate may have it **reissued** (补领结婚证) on their own
//!    appointment, with a new number ([`ids::reissued_certificate_number`]), after passing
//!    their identity checks; once per appointment;
//! 2. scanned archive documents may be **attached** (the bytes live outside the event store;
//!    the record keeps their SHA-256 and location). Attaching the same document again is a
//!    no-op; another content under the same document id is refused;
//! 3. the marriage is **dissolved** once, by a divorce (on the divorce's registration day) or a
//!    death (the day after it), never before its registration day. A dissolved marriage keeps
//!    its record and documents but has no certificate reissued.

use std::fmt;

use minzheng_kit::aggregate::{Aggregate, DomainError, RefusalKind};
use minzheng_types::{BoundedText, CitizenId, RegionCode, Sex, age_on};
use time::Date;

use crate::{
    ids::{self, AppointmentId, ArchiveReference, DocumentId, MarriageId},
    verification::{self, MissingVerification, Party, Verification},
};

/// The youngest age, in completed years, at which a man may marry (Civil Code art. 1047).
pub const MAN_MIN_AGE: u32 = 22;
/// The youngest age, in completed years, at which a woman may marry (Civil Code art. 1047).
pub const WOMAN_MIN_AGE: u32 = 20;

/// Longest certificate number of a back-filled marriage the request edge should accept, in
/// characters.
pub const CERTIFICATE_NUMBER_MAX_CHARS: usize = 50;
/// Longest storage URI of a document the request edge should accept, in characters.
pub const STORAGE_URI_MAX_CHARS: usize = 500;
/// Longest media type the request edge should accept, in characters.
pub const MEDIA_TYPE_MAX_CHARS: usize = 100;

/// Why a marriage ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    /// A divorce was registered.
    Divorce,
    /// A spouse died.
    Death,
}

/// How a marriage ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dissolution {
    /// The first day the parties are no longer married to each other.
    pub on: Date,
    pub cause: Cause,
    /// The divorce application id or the death record id.
    pub record: String,
}

/// A SHA-256 digest, as 64 lowercase hexadecimal digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Sha256(String);

/// Why a text is not a SHA-256 digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be 64 lowercase hexadecimal digits")]
pub struct Sha256Error;

impl Sha256 {
    /// Parses 64 lowercase hexadecimal digits.
    pub fn parse(input: &str) -> Result<Self, Sha256Error> {
        if input.len() == 64
            && input
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(Self(input.to_owned()))
        } else {
            Err(Sha256Error)
        }
    }

    /// The digest of 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The 64 lowercase hexadecimal digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({})", self.0)
    }
}

/// A scanned archive document kept outside the event store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveDocument {
    /// The document's id within its record, e.g. `p1`.
    pub id: DocumentId,
    /// The hash of the stored bytes.
    pub sha256: Sha256,
    /// Where the bytes are, e.g. `s3://bx-archive/marriage/1998/0123-p1.pdf`.
    pub storage_uri: BoundedText,
    /// E.g. `application/pdf`.
    pub media_type: BoundedText,
    pub attached_on: Date,
}

/// The facts about a marriage in the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarriageRecord {
    pub id: MarriageId,
    /// The certificate number now valid: the original, or the latest reissue's.
    pub certificate_number: String,
    /// The registry that registered it.
    pub registry: RegionCode,
    pub registered_on: Date,
    pub parties: [Party; 2],
    /// The archive reference of a back-filled marriage.
    pub backfilled: Option<ArchiveReference>,
    /// The appointment of a registered marriage.
    pub appointment: Option<AppointmentId>,
    pub dissolved: Option<Dissolution>,
    pub documents: Vec<ArchiveDocument>,
    /// How many times the certificate was reissued.
    pub reissues: u32,
}

/// The state of one marriage; `Default` is a marriage not in the register.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marriage {
    record: Option<MarriageRecord>,
}

impl Marriage {
    /// The facts, `None` before registration.
    pub fn record(&self) -> Option<&MarriageRecord> {
        self.record.as_ref()
    }

    /// Registered (or back-filled) and not dissolved.
    pub fn is_current(&self) -> bool {
        self.record.as_ref().is_some_and(|r| r.dissolved.is_none())
    }

    /// The position (0 or 1) of `citizen` among the parties.
    pub fn party_index(&self, citizen: &CitizenId) -> Option<usize> {
        self.record
            .as_ref()?
            .parties
            .iter()
            .position(|p| &p.citizen == citizen)
    }

    /// The other party of `citizen`.
    pub fn spouse_of(&self, citizen: &CitizenId) -> Option<&CitizenId> {
        let index = self.party_index(citizen)?;
        self.record.as_ref().map(|r| &r.parties[1 - index].citizen)
    }
}

/// What can be asked of a marriage record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Register(Register),
    Backfill(Backfill),
    ReissueCertificate(ReissueCertificate),
    Dissolve(Dissolve),
    AttachDocument(AttachDocument),
}

/// Register the marriage of two parties who came on their appointment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    pub appointment: AppointmentId,
    pub parties: [Party; 2],
    pub verifications: Vec<Verification>,
    pub on: Date,
}

/// Enter a marriage from the paper archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backfill {
    /// `A-` + the pseudonym of the archive reference ([`MarriageId::backfilled`]), given by the
    /// application, which holds the key.
    pub id: MarriageId,
    pub archive: ArchiveReference,
    /// As printed, e.g. "本结字第0123号".
    pub certificate_number: BoundedText,
    pub registry: RegionCode,
    /// The day it was registered.
    pub on: Date,
    pub parties: [Party; 2],
}

/// Reissue a lost certificate to one party who came on their appointment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReissueCertificate {
    pub appointment: AppointmentId,
    pub party: CitizenId,
    pub verifications: Vec<Verification>,
    pub on: Date,
}

/// End the marriage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dissolve {
    /// The first day the parties are no longer married.
    pub on: Date,
    pub cause: Cause,
    /// The divorce application id or the death record id.
    pub record: String,
}

/// Attach a scanned archive document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachDocument {
    pub document: ArchiveDocument,
}

/// What happened to a marriage record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Registered(Registered),
    Backfilled(Backfilled),
    CertificateReissued(CertificateReissued),
    Dissolved(Dissolved),
    DocumentAttached(DocumentAttached),
}

/// A marriage was registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub id: MarriageId,
    pub certificate_number: String,
    pub registry: RegionCode,
    pub registered_on: Date,
    pub parties: [Party; 2],
    pub verifications: Vec<Verification>,
    pub appointment: AppointmentId,
}

/// A marriage was entered from the paper archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backfilled {
    pub id: MarriageId,
    pub certificate_number: String,
    pub registry: RegionCode,
    pub registered_on: Date,
    pub parties: [Party; 2],
    pub archive: ArchiveReference,
}

/// A lost certificate was reissued with a new number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateReissued {
    pub id: MarriageId,
    pub certificate_number: String,
    pub previous_certificate_number: String,
    /// The registry that reissued it.
    pub registry: RegionCode,
    pub reissued_on: Date,
    pub verifications: Vec<Verification>,
    pub appointment: AppointmentId,
}

/// The marriage ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dissolved {
    pub id: MarriageId,
    pub dissolved_on: Date,
    pub cause: Cause,
    pub record: String,
}

/// A scanned archive document was attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentAttached {
    pub id: MarriageId,
    pub document: ArchiveDocument,
}

/// A rule that refused a marriage command. Messages never name a party's id number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the marriage is not in the register")]
    NotFound,
    #[error("the marriage is already in the register")]
    AlreadyRegistered,
    #[error("the two parties are the same person")]
    SamePerson,
    #[error("a marriage is between one man and one woman")]
    NotAManAndAWoman,
    #[error("the man is under {MAN_MIN_AGE} on the registration day")]
    ManUnder22,
    #[error("the woman is under {WOMAN_MIN_AGE} on the registration day")]
    WomanUnder20,
    #[error("identity check missing: {0}")]
    VerificationMissing(MissingVerification),
    #[error("the registration must take place on the appointment's day")]
    NotTheAppointmentDay,
    #[error("the marriage was dissolved")]
    Dissolved,
    #[error("the citizen is not a party to the marriage")]
    NotAParty,
    #[error("the certificate was already reissued on this appointment")]
    AlreadyReissuedOnThisAppointment,
    #[error("the date is before the marriage was registered")]
    BeforeRegistration,
    #[error("the record id of a dissolution must be a valid id")]
    InvalidRecordId,
    #[error("another document is already attached under this document id")]
    DocumentAlreadyAttached,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::NotFound => "marriage_not_found",
            Error::AlreadyRegistered => "already_registered",
            Error::SamePerson => "same_person",
            Error::NotAManAndAWoman => "not_a_man_and_a_woman",
            Error::ManUnder22 => "man_under_22",
            Error::WomanUnder20 => "woman_under_20",
            Error::VerificationMissing(_) => "verification_missing",
            Error::NotTheAppointmentDay => "not_the_appointment_day",
            Error::Dissolved => "marriage_dissolved",
            Error::NotAParty => "not_a_party",
            Error::AlreadyReissuedOnThisAppointment => "already_reissued_on_this_appointment",
            Error::BeforeRegistration => "before_registration",
            Error::InvalidRecordId => "invalid_record_id",
            Error::DocumentAlreadyAttached => "document_already_attached",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            Error::NotFound => RefusalKind::NotFound,
            _ => RefusalKind::FailedPrecondition,
        }
    }
}

/// The Civil Code's conditions on the parties on the registration day: two different persons,
/// one man and one woman, of marriageable age.
pub fn check_parties(parties: &[Party; 2], on: Date) -> Result<(), Error> {
    let [a, b] = parties;
    if a.citizen == b.citizen {
        return Err(Error::SamePerson);
    }
    let (man, woman) = match (a.citizen.sex(), b.citizen.sex()) {
        (Sex::Male, Sex::Female) => (&a.citizen, &b.citizen),
        (Sex::Female, Sex::Male) => (&b.citizen, &a.citizen),
        _ => return Err(Error::NotAManAndAWoman),
    };
    if age_on(man.birth_date(), on) < MAN_MIN_AGE {
        return Err(Error::ManUnder22);
    }
    if age_on(woman.birth_date(), on) < WOMAN_MIN_AGE {
        return Err(Error::WomanUnder20);
    }
    Ok(())
}

impl Aggregate for Marriage {
    const CATEGORY: &'static str = "marriage";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Register(c) => {
                if self.record.is_some() {
                    return Err(Error::AlreadyRegistered);
                }
                if c.on != c.appointment.day() {
                    return Err(Error::NotTheAppointmentDay);
                }
                check_parties(&c.parties, c.on)?;
                let [a, b] = &c.parties;
                verification::require_passed(&c.verifications, &[&a.citizen, &b.citizen])
                    .map_err(Error::VerificationMissing)?;
                let id = MarriageId::registered(&c.appointment);
                Ok(vec![Event::Registered(Registered {
                    certificate_number: id.as_str().to_owned(),
                    id,
                    registry: c.appointment.registry(),
                    registered_on: c.on,
                    parties: c.parties.clone(),
                    verifications: c.verifications.clone(),
                    appointment: c.appointment,
                })])
            }
            Command::Backfill(c) => {
                if self.record.is_some() {
                    return Err(Error::AlreadyRegistered);
                }
                check_parties(&c.parties, c.on)?;
                Ok(vec![Event::Backfilled(Backfilled {
                    id: c.id.clone(),
                    certificate_number: c.certificate_number.as_str().to_owned(),
                    registry: c.registry,
                    registered_on: c.on,
                    parties: c.parties.clone(),
                    archive: c.archive.clone(),
                })])
            }
            Command::ReissueCertificate(c) => {
                let record = self.current()?;
                if record.dissolved.is_some() {
                    return Err(Error::Dissolved);
                }
                if self.party_index(&c.party).is_none() {
                    return Err(Error::NotAParty);
                }
                if c.on != c.appointment.day() {
                    return Err(Error::NotTheAppointmentDay);
                }
                if c.on < record.registered_on {
                    return Err(Error::BeforeRegistration);
                }
                verification::require_passed(&c.verifications, &[&c.party])
                    .map_err(Error::VerificationMissing)?;
                let certificate_number = ids::reissued_certificate_number(&c.appointment);
                if certificate_number == record.certificate_number {
                    return Err(Error::AlreadyReissuedOnThisAppointment);
                }
                Ok(vec![Event::CertificateReissued(CertificateReissued {
                    id: record.id.clone(),
                    certificate_number,
                    previous_certificate_number: record.certificate_number.clone(),
                    registry: c.appointment.registry(),
                    reissued_on: c.on,
                    verifications: c.verifications.clone(),
                    appointment: c.appointment,
                })])
            }
            Command::Dissolve(c) => {
                let record = self.current()?;
                if record.dissolved.is_some() {
                    return Err(Error::Dissolved);
                }
                if c.on < record.registered_on {
                    return Err(Error::BeforeRegistration);
                }
                if minzheng_types::id::check(&c.record).is_err() {
                    return Err(Error::InvalidRecordId);
                }
                Ok(vec![Event::Dissolved(Dissolved {
                    id: record.id.clone(),
                    dissolved_on: c.on,
                    cause: c.cause,
                    record: c.record.clone(),
                })])
            }
            Command::AttachDocument(c) => {
                let record = self.current()?;
                match record.documents.iter().find(|d| d.id == c.document.id) {
                    Some(existing) if existing.sha256 == c.document.sha256 => Ok(vec![]),
                    Some(_) => Err(Error::DocumentAlreadyAttached),
                    None => Ok(vec![Event::DocumentAttached(DocumentAttached {
                        id: record.id.clone(),
                        document: c.document.clone(),
                    })]),
                }
            }
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::Registered(e) => {
                self.record = Some(MarriageRecord {
                    id: e.id.clone(),
                    certificate_number: e.certificate_number.clone(),
                    registry: e.registry,
                    registered_on: e.registered_on,
                    parties: e.parties.clone(),
                    backfilled: None,
                    appointment: Some(e.appointment),
                    dissolved: None,
                    documents: Vec::new(),
                    reissues: 0,
                });
            }
            Event::Backfilled(e) => {
                self.record = Some(MarriageRecord {
                    id: e.id.clone(),
                    certificate_number: e.certificate_number.clone(),
                    registry: e.registry,
                    registered_on: e.registered_on,
                    parties: e.parties.clone(),
                    backfilled: Some(e.archive.clone()),
                    appointment: None,
                    dissolved: None,
                    documents: Vec::new(),
                    reissues: 0,
                });
            }
            Event::CertificateReissued(e) => {
                if let Some(record) = &mut self.record {
                    record.certificate_number = e.certificate_number.clone();
                    record.reissues = record.reissues.saturating_add(1);
                }
            }
            Event::Dissolved(e) => {
                if let Some(record) = &mut self.record {
                    record.dissolved = Some(Dissolution {
                        on: e.dissolved_on,
                        cause: e.cause,
                        record: e.record.clone(),
                    });
                }
            }
            Event::DocumentAttached(e) => {
                if let Some(record) = &mut self.record {
                    record.documents.push(e.document.clone());
                }
            }
        }
        self
    }
}

impl Marriage {
    /// The record every command after registration needs.
    fn current(&self) -> Result<&MarriageRecord, Error> {
        self.record.as_ref().ok_or(Error::NotFound)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use minzheng_kit::testing::given;
    use time::macros::date;

    use super::*;
    use crate::{
        person::tests::{BRIDE, GROOM, OTHER_WOMAN},
        verification::{
            Kind,
            tests::{citizen, passed, text},
        },
    };

    /// A man born 1990-01-01.
    pub(crate) const OTHER_MAN: &str = "210502199001010017";
    /// A man born 1950-01-01.
    pub(crate) const OLD_MAN: &str = "110105195001010012";
    /// A woman born 1949-12-31.
    pub(crate) const OLD_WOMAN: &str = "11010519491231002X";
    /// A man who turns 22 on 2025-07-02.
    pub(crate) const MAN_22_TOMORROW: &str = "210502200307020010";
    /// A man who turns 22 on 2025-07-01.
    pub(crate) const MAN_22_TODAY: &str = "210502200307010015";
    /// A woman who turns 20 on 2025-07-02.
    pub(crate) const WOMAN_20_TOMORROW: &str = "210502200507020023";
    /// A woman who turns 20 on 2025-07-01.
    pub(crate) const WOMAN_20_TODAY: &str = "210502200507010028";

    pub(crate) const DAY: Date = date!(2025 - 07 - 01);

    pub(crate) fn appointment(id: &str) -> AppointmentId {
        AppointmentId::parse(id).expect("valid")
    }

    pub(crate) fn party(number: &str, name: &str) -> Party {
        Party {
            citizen: citizen(number),
            name: text(name),
        }
    }

    pub(crate) fn couple(a: &str, b: &str) -> [Party; 2] {
        [party(a, "张伟"), party(b, "李娜")]
    }

    pub(crate) fn checks(parties: &[Party; 2]) -> Vec<Verification> {
        parties.iter().flat_map(|p| passed(&p.citizen)).collect()
    }

    pub(crate) fn register_couple(a: &str, b: &str) -> Register {
        let parties = couple(a, b);
        Register {
            appointment: appointment("210502-20250701-003"),
            verifications: checks(&parties),
            parties,
            on: DAY,
        }
    }

    pub(crate) fn register() -> Register {
        register_couple(GROOM, BRIDE)
    }

    pub(crate) fn id() -> MarriageId {
        MarriageId::parse("J210502-20250701-003").expect("valid")
    }

    pub(crate) fn registered() -> Event {
        let c = register();
        Event::Registered(Registered {
            id: id(),
            certificate_number: "J210502-20250701-003".into(),
            registry: c.appointment.registry(),
            registered_on: DAY,
            parties: c.parties,
            verifications: c.verifications,
            appointment: c.appointment,
        })
    }

    pub(crate) fn backfill() -> Backfill {
        Backfill {
            id: MarriageId::parse("A-9c1e5f0c9c1e5f0c9c1e5f0c9c1e5f0c").expect("valid"),
            archive: ArchiveReference::parse("BX-1975-0123").expect("valid"),
            certificate_number: text("本结字第0123号"),
            registry: RegionCode::parse("210502000000").expect("valid"),
            on: date!(1975 - 05 - 01),
            parties: couple(OLD_MAN, OLD_WOMAN),
        }
    }

    pub(crate) fn backfilled() -> Event {
        let c = backfill();
        Event::Backfilled(Backfilled {
            id: c.id,
            certificate_number: "本结字第0123号".into(),
            registry: c.registry,
            registered_on: c.on,
            parties: c.parties,
            archive: c.archive,
        })
    }

    const REISSUE: &str = "210502-20270310-007";

    fn reissue(party: &str, on: Date) -> Command {
        Command::ReissueCertificate(ReissueCertificate {
            appointment: appointment(REISSUE),
            party: citizen(party),
            verifications: passed(&citizen(party)),
            on,
        })
    }

    pub(crate) fn reissued() -> Event {
        Event::CertificateReissued(CertificateReissued {
            id: id(),
            certificate_number: "J210502-20270310-007-B".into(),
            previous_certificate_number: "J210502-20250701-003".into(),
            registry: appointment(REISSUE).registry(),
            reissued_on: date!(2027 - 03 - 10),
            verifications: passed(&citizen(BRIDE)),
            appointment: appointment(REISSUE),
        })
    }

    pub(crate) fn document(id: &str, hash: &str) -> ArchiveDocument {
        ArchiveDocument {
            id: DocumentId::parse(id).expect("valid"),
            sha256: Sha256::parse(&hash.repeat(64 / hash.len())).expect("valid"),
            storage_uri: text("s3://bx-archive/marriage/2025/0003-p1.pdf"),
            media_type: text("application/pdf"),
            attached_on: date!(2027 - 04 - 01),
        }
    }

    pub(crate) fn attached() -> Event {
        Event::DocumentAttached(DocumentAttached {
            id: id(),
            document: document("p1", "0f"),
        })
    }

    fn dissolve(on: Date) -> Command {
        Command::Dissolve(Dissolve {
            on,
            cause: Cause::Divorce,
            record: "D210502-20280301-002".into(),
        })
    }

    pub(crate) fn dissolved() -> Event {
        Event::Dissolved(Dissolved {
            id: id(),
            dissolved_on: date!(2028 - 05 - 02),
            cause: Cause::Divorce,
            record: "D210502-20280301-002".into(),
        })
    }

    /// Registered, certificate reissued, a document attached, dissolved by divorce.
    pub(crate) fn history() -> Vec<Event> {
        vec![registered(), reissued(), attached(), dissolved()]
    }

    fn until(index: usize) -> Vec<Event> {
        history().into_iter().take(index).collect()
    }

    #[test]
    fn a_marriage_is_registered_reissued_documented_and_dissolved() {
        let commands = [
            Command::Register(register()),
            reissue(BRIDE, date!(2027 - 03 - 10)),
            Command::AttachDocument(AttachDocument {
                document: document("p1", "0f"),
            }),
            dissolve(date!(2028 - 05 - 02)),
        ];
        for (index, command) in commands.into_iter().enumerate() {
            given::<Marriage>(until(index))
                .when(command)
                .then([history()[index].clone()]);
        }
        let state = given::<Marriage>(history());
        let marriage = state.state();
        let record = marriage.record().expect("kept after dissolution");
        assert_eq!(record.certificate_number, "J210502-20270310-007-B");
        assert_eq!(record.reissues, 1);
        assert_eq!(record.appointment, Some(appointment("210502-20250701-003")));
        assert_eq!(record.backfilled, None);
        assert_eq!(record.documents, vec![document("p1", "0f")]);
        assert_eq!(
            record.dissolved.as_ref().map(|d| (d.on, d.cause)),
            Some((date!(2028 - 05 - 02), Cause::Divorce))
        );
        assert!(!marriage.is_current());
        assert!(given::<Marriage>(until(1)).state().is_current());
        assert!(!Marriage::default().is_current());
    }

    #[test]
    fn the_parties_and_their_spouses_are_found_by_citizen() {
        let state = given::<Marriage>(until(1));
        let marriage = state.state();
        assert_eq!(marriage.party_index(&citizen(GROOM)), Some(0));
        assert_eq!(marriage.party_index(&citizen(BRIDE)), Some(1));
        assert_eq!(marriage.party_index(&citizen(OTHER_WOMAN)), None);
        assert_eq!(marriage.spouse_of(&citizen(GROOM)), Some(&citizen(BRIDE)));
        assert_eq!(marriage.spouse_of(&citizen(BRIDE)), Some(&citizen(GROOM)));
        assert_eq!(marriage.spouse_of(&citizen(OTHER_WOMAN)), None);
        assert_eq!(Marriage::default().spouse_of(&citizen(GROOM)), None);
    }

    #[test]
    fn a_marriage_is_registered_once() {
        given::<Marriage>(until(1))
            .when(Command::Register(register()))
            .then_refused("already_registered");
        given::<Marriage>(until(1))
            .when(Command::Backfill(backfill()))
            .then_refused("already_registered");
        given::<Marriage>([backfilled()])
            .when(Command::Backfill(backfill()))
            .then_refused("already_registered");
    }

    #[test]
    fn the_parties_are_two_persons_a_man_and_a_woman() {
        given::<Marriage>([])
            .when(Command::Register(register_couple(GROOM, GROOM)))
            .then_refused("same_person");
        given::<Marriage>([])
            .when(Command::Register(register_couple(GROOM, OTHER_MAN)))
            .then_refused("not_a_man_and_a_woman");
        given::<Marriage>([])
            .when(Command::Register(register_couple(BRIDE, OTHER_WOMAN)))
            .then_refused("not_a_man_and_a_woman");
        // The woman may be named first.
        let bride_first = register_couple(BRIDE, GROOM);
        assert!(
            given::<Marriage>([])
                .when(Command::Register(bride_first))
                .outcome()
                .is_ok()
        );
    }

    #[test]
    fn the_man_is_at_least_22_and_the_woman_at_least_20_on_the_day() {
        given::<Marriage>([])
            .when(Command::Register(register_couple(MAN_22_TOMORROW, BRIDE)))
            .then_refused("man_under_22");
        given::<Marriage>([])
            .when(Command::Register(register_couple(GROOM, WOMAN_20_TOMORROW)))
            .then_refused("woman_under_20");
        let of_age = register_couple(MAN_22_TODAY, WOMAN_20_TODAY);
        assert!(
            given::<Marriage>([])
                .when(Command::Register(of_age))
                .outcome()
                .is_ok()
        );
    }

    #[test]
    fn every_party_passed_every_check() {
        let mut command = register();
        command
            .verifications
            .retain(|v| !(v.party == citizen(BRIDE) && v.kind == Kind::ESignature));
        let refusal = given::<Marriage>([])
            .when(Command::Register(command))
            .then_refused("verification_missing");
        assert_eq!(
            refusal,
            Error::VerificationMissing(MissingVerification {
                party: 2,
                kind: Kind::ESignature
            })
        );
        assert!(!refusal.to_string().contains(BRIDE));
        let mut none = register();
        none.verifications.clear();
        given::<Marriage>([])
            .when(Command::Register(none))
            .then_refused("verification_missing");
    }

    #[test]
    fn a_registration_takes_place_on_the_appointment_day() {
        let late = Register {
            on: date!(2025 - 07 - 02),
            ..register()
        };
        given::<Marriage>([])
            .when(Command::Register(late))
            .then_refused("not_the_appointment_day");
        given::<Marriage>(until(1))
            .when(reissue(BRIDE, date!(2027 - 03 - 11)))
            .then_refused("not_the_appointment_day");
    }

    #[test]
    fn a_backfilled_marriage_follows_the_same_conditions_without_checks() {
        given::<Marriage>([])
            .when(Command::Backfill(backfill()))
            .then([backfilled()]);
        let young = Backfill {
            on: date!(1971 - 12 - 31),
            ..backfill()
        };
        // The man, born 1950-01-01, was 21.
        given::<Marriage>([])
            .when(Command::Backfill(young))
            .then_refused("man_under_22");
        let same = Backfill {
            parties: couple(OLD_MAN, OLD_MAN),
            ..backfill()
        };
        given::<Marriage>([])
            .when(Command::Backfill(same))
            .then_refused("same_person");
        let state = given::<Marriage>([backfilled()]);
        let record = state.state().record().expect("back-filled");
        assert_eq!(record.backfilled, backfill().archive.into());
        assert_eq!(record.appointment, None);
        assert_eq!(record.certificate_number, "本结字第0123号");
    }

    #[test]
    fn a_certificate_is_reissued_to_a_checked_party_of_a_current_marriage_once_per_appointment() {
        let refusal = given::<Marriage>([])
            .when(reissue(BRIDE, date!(2027 - 03 - 10)))
            .then_refused("marriage_not_found");
        assert_eq!(refusal.kind(), RefusalKind::NotFound);
        given::<Marriage>([registered(), dissolved()])
            .when(reissue(BRIDE, date!(2027 - 03 - 10)))
            .then_refused("marriage_dissolved");
        given::<Marriage>(until(1))
            .when(reissue(OTHER_WOMAN, date!(2027 - 03 - 10)))
            .then_refused("not_a_party");
        let unchecked = ReissueCertificate {
            appointment: appointment(REISSUE),
            party: citizen(BRIDE),
            verifications: passed(&citizen(GROOM)),
            on: date!(2027 - 03 - 10),
        };
        given::<Marriage>(until(1))
            .when(Command::ReissueCertificate(unchecked))
            .then_refused("verification_missing");
        given::<Marriage>(until(2))
            .when(reissue(GROOM, date!(2027 - 03 - 10)))
            .then_refused("already_reissued_on_this_appointment");
        let early = ReissueCertificate {
            appointment: appointment("210502-20250630-001"),
            party: citizen(BRIDE),
            verifications: passed(&citizen(BRIDE)),
            on: date!(2025 - 06 - 30),
        };
        given::<Marriage>(until(1))
            .when(Command::ReissueCertificate(early))
            .then_refused("before_registration");
        // A second reissue, on another appointment, replaces the first reissue's number.
        let again = ReissueCertificate {
            appointment: appointment("210502-20290101-002"),
            party: citizen(GROOM),
            verifications: passed(&citizen(GROOM)),
            on: date!(2029 - 01 - 01),
        };
        let state = given::<Marriage>(until(2))
            .when(Command::ReissueCertificate(again))
            .then([Event::CertificateReissued(CertificateReissued {
                id: id(),
                certificate_number: "J210502-20290101-002-B".into(),
                previous_certificate_number: "J210502-20270310-007-B".into(),
                registry: appointment(REISSUE).registry(),
                reissued_on: date!(2029 - 01 - 01),
                verifications: passed(&citizen(GROOM)),
                appointment: appointment("210502-20290101-002"),
            })]);
        assert_eq!(state.record().map(|r| r.reissues), Some(2));
    }

    #[test]
    fn a_marriage_is_dissolved_once_and_not_before_its_registration() {
        given::<Marriage>([])
            .when(dissolve(date!(2028 - 05 - 02)))
            .then_refused("marriage_not_found");
        given::<Marriage>(history())
            .when(dissolve(date!(2028 - 05 - 03)))
            .then_refused("marriage_dissolved");
        given::<Marriage>(until(1))
            .when(dissolve(date!(2025 - 06 - 30)))
            .then_refused("before_registration");
        given::<Marriage>(until(1))
            .when(Command::Dissolve(Dissolve {
                on: date!(2028 - 05 - 02),
                cause: Cause::Death,
                record: String::new(),
            }))
            .then_refused("invalid_record_id");
        // On the registration day itself is allowed.
        given::<Marriage>(until(1))
            .when(dissolve(DAY))
            .then([Event::Dissolved(Dissolved {
                dissolved_on: DAY,
                ..match dissolved() {
                    Event::Dissolved(d) => d,
                    _ => unreachable!(),
                }
            })]);
    }

    #[test]
    fn documents_are_attached_once_per_id_and_content() {
        let attach = |id: &str, hash: &str| {
            Command::AttachDocument(AttachDocument {
                document: document(id, hash),
            })
        };
        given::<Marriage>([])
            .when(attach("p1", "0f"))
            .then_refused("marriage_not_found");
        given::<Marriage>(until(3))
            .when(attach("p1", "0f"))
            .then([]);
        given::<Marriage>(until(3))
            .when(attach("p1", "1e"))
            .then_refused("document_already_attached");
        given::<Marriage>(history())
            .when(attach("p2", "1e"))
            .then([Event::DocumentAttached(DocumentAttached {
                id: id(),
                document: document("p2", "1e"),
            })]);
    }

    #[test]
    fn sha256_digests_are_64_lowercase_hex_digits() {
        let hex = "00ff".repeat(16);
        let digest = Sha256::parse(&hex).expect("valid");
        assert_eq!(digest.as_str(), hex);
        assert_eq!(digest.to_string(), hex);
        let mut bytes = [0; 32];
        bytes.iter_mut().skip(1).step_by(2).for_each(|b| *b = 0xff);
        assert_eq!(Sha256::from_bytes(bytes), digest);
        for bad in [
            "00FF".repeat(16),
            "00ff".repeat(15),
            "0g".repeat(32),
            String::new(),
        ] {
            assert_eq!(Sha256::parse(&bad), Err(Sha256Error), "{bad}");
        }
    }
}
