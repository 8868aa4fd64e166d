//! The ids of the civil registry. Appointment ids are issued by the registry day that books
//! them, and the records that follow from an appointment take their ids from it:
//!
//! | what | form | example |
//! |---|---|---|
//! | appointment | `<county 6 digits>-<yyyymmdd>-<nnn>` | `210502-20250701-003` |
//! | marriage (and its certificate) | `J` + appointment id | `J210502-20250701-003` |
//! | back-filled marriage | `A-` + pseudonym of the archive reference | `A-9c1e…` |
//! | divorce application | `D` + appointment id | `D210502-20250701-004` |
//! | back-filled divorce (历史离婚档案补录) | `DA-` + pseudonym of the archive reference | `DA-9c1e…` |
//! | divorce certificate | `L` + appointment id | `L210502-20250801-002` |
//! | person, death | pseudonym: 32 lowercase hex digits | `5f0c…` |
//!
//! One registration per appointment makes the record ids unique and the commands idempotent:
//! registering on the same appointment twice addresses the same, already existing stream. No id
//! carries personal data: a person's streams are keyed by a [`Pseudonym`], a keyed hash of the
//! citizen id number that only the service can compute. An archive reference (档案号) is typed by
//! a clerk and may be anything, a citizen id number included, so the records back-filled from the
//! archive are keyed by a pseudonym of the reference too (see [`ArchiveReference::normalised`]):
//! entering the same archive file twice still addresses the same stream, and the reference
//! itself stays in the event payload.
//!
//! Before this, back-filled records were keyed `A-`/`DA-` + the reference itself. No such
//! stream exists in production (the service is not released yet), so there is nothing to
//! migrate; the decoders still accept the old ids' shape, as stored history.

use std::fmt;

use minzheng_types::{RegionCode, RegionLevel, id_type};
use time::{Date, Month};

/// Most appointments one registry day can issue (the ordinal has three digits).
pub const MAX_APPOINTMENTS_PER_DAY: u16 = 999;

/// Why a text is not an appointment id or a pseudonym.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("must have the form <county 6 digits>-<yyyymmdd>-<nnn>, e.g. 210502-20250701-003")]
    Appointment,
    #[error("must be {PSEUDONYM_LEN} lowercase hexadecimal digits")]
    Pseudonym,
    #[error("must start with {prefix:?} followed by an appointment id")]
    Prefixed { prefix: &'static str },
}

/// An appointment: the registry (a county-level division), the day, and its ordinal among the
/// day's bookings (1-based).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AppointmentId {
    registry: RegionCode,
    day: Date,
    ordinal: u16,
}

impl AppointmentId {
    /// `None` when the registry is not county-level or the ordinal is outside 1..=999.
    pub fn new(registry: RegionCode, day: Date, ordinal: u16) -> Option<Self> {
        (registry.level() == RegionLevel::County
            && (1..=MAX_APPOINTMENTS_PER_DAY).contains(&ordinal))
        .then_some(Self {
            registry,
            day,
            ordinal,
        })
    }

    pub fn parse(input: &str) -> Result<Self, FormError> {
        let mut parts = input.split('-');
        let (Some(county), Some(day), Some(ordinal), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(FormError::Appointment);
        };
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !(digits(county, 6) && digits(day, 8) && digits(ordinal, 3)) {
            return Err(FormError::Appointment);
        }
        let registry =
            RegionCode::parse(&format!("{county}000000")).map_err(|_| FormError::Appointment)?;
        let number = |range: std::ops::Range<usize>| day[range].parse::<u32>().ok();
        let day = (|| {
            let month = Month::try_from(u8::try_from(number(4..6)?).ok()?).ok()?;
            Date::from_calendar_date(
                i32::try_from(number(0..4)?).ok()?,
                month,
                u8::try_from(number(6..8)?).ok()?,
            )
            .ok()
        })()
        .ok_or(FormError::Appointment)?;
        let ordinal = ordinal.parse().map_err(|_| FormError::Appointment)?;
        Self::new(registry, day, ordinal).ok_or(FormError::Appointment)
    }

    pub fn registry(&self) -> RegionCode {
        self.registry
    }

    pub fn day(&self) -> Date {
        self.day
    }

    pub fn ordinal(&self) -> u16 {
        self.ordinal
    }

    /// The key of the registry day's stream, `<county 6 digits>-<yyyymmdd>`.
    pub fn day_key(&self) -> DayKey {
        day_key(self.registry, self.day)
    }
}

/// The stream key of a registry's day, `<county 6 digits>-<yyyymmdd>`: a public code and a
/// date, nothing personal.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct DayKey(String);

impl DayKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The stream key of a registry's day, `<county 6 digits>-<yyyymmdd>`.
pub fn day_key(registry: RegionCode, day: Date) -> DayKey {
    DayKey(format!(
        "{}-{:04}{:02}{:02}",
        &registry.to_string()[..6],
        day.year(),
        u8::from(day.month()),
        day.day()
    ))
}

impl fmt::Display for AppointmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{:03}",
            day_key(self.registry, self.day),
            self.ordinal
        )
    }
}

impl fmt::Debug for AppointmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppointmentId({self})")
    }
}

id_type!(
    /// A marriage's id and stream key: `J` + the appointment id for a registration, `A-` + the
    /// archive reference for a back-filled one.
    MarriageId
);

id_type!(
    /// A divorce application's id and stream key, `D` + the appointment id; `DA-` + the archive
    /// reference for a divorce back-filled from the archive.
    ApplicationId
);

id_type!(
    /// The reference of a paper archive file (档案号), as the clerk typed it. Free text as far as
    /// privacy goes: never a stream key (records are keyed by its pseudonym).
    ArchiveReference
);

impl ArchiveReference {
    /// The form two spellings of one reference share (ASCII letters in upper case), from which
    /// its pseudonym is computed.
    pub fn normalised(&self) -> String {
        self.as_str().to_ascii_uppercase()
    }
}

id_type!(
    /// A scanned document's id within its record, e.g. `p1`.
    DocumentId
);

// The stream keys: ids the registry issues (or derives from issued ids and pseudonyms) and
// pseudonyms. Not `ArchiveReference` (typed by a clerk) nor `DocumentId` (named by the caller).
minzheng_types::stream_key!(MarriageId, ApplicationId, Pseudonym, DayKey);

impl MarriageId {
    /// The id (and certificate number) of a marriage registered on `appointment`.
    pub fn registered(appointment: &AppointmentId) -> Self {
        Self::prefixed("J", appointment)
    }

    /// The id of a marriage entered from the archive file whose reference has the pseudonym
    /// `archive`.
    pub fn backfilled(archive: &Pseudonym) -> Self {
        // A pseudonym is 32 hex digits: always a valid id after the prefix.
        Self::parse(&format!("A-{archive}")).unwrap_or_else(|_| unreachable!())
    }

    fn prefixed(prefix: &str, appointment: &AppointmentId) -> Self {
        // An appointment id is 19 ASCII digits and dashes: always a valid id after a prefix.
        Self::parse(&format!("{prefix}{appointment}")).unwrap_or_else(|_| unreachable!())
    }
}

impl ApplicationId {
    /// The id of a divorce application received on `appointment`.
    pub fn received(appointment: &AppointmentId) -> Self {
        Self::parse(&format!("D{appointment}")).unwrap_or_else(|_| unreachable!())
    }

    /// The id of a divorce entered from the archive file whose reference has the pseudonym
    /// `archive`: `DA-` + the pseudonym.
    pub fn backfilled(archive: &Pseudonym) -> Self {
        Self::parse(&format!("DA-{archive}")).unwrap_or_else(|_| unreachable!())
    }

    /// Whether this is the id of a divorce back-filled from the archive (`DA-` and more), not
    /// of an application received on an appointment.
    pub fn is_backfilled(&self) -> bool {
        self.as_str()
            .strip_prefix("DA-")
            .is_some_and(|rest| !rest.is_empty())
    }
}

/// The divorce certificate number (离婚证字号) issued on `appointment`.
pub fn divorce_certificate_number(appointment: &AppointmentId) -> String {
    format!("L{appointment}")
}

/// The number of a marriage certificate reissued on `appointment`.
pub fn reissued_certificate_number(appointment: &AppointmentId) -> String {
    format!("J{appointment}-B")
}

/// Length of a [`Pseudonym`] in hex digits (128 bits).
pub const PSEUDONYM_LEN: usize = 32;

/// A person's stream key: a keyed hash of their citizen id number, computed by the application
/// (see `minzheng_kit::pseudonym`). Also the id of their death record.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pseudonym(String);

impl Pseudonym {
    pub fn parse(input: &str) -> Result<Self, FormError> {
        if input.len() == PSEUDONYM_LEN
            && input
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(Self(input.to_owned()))
        } else {
            Err(FormError::Pseudonym)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pseudonym({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn appointment_ids_round_trip_and_name_their_day() {
        let id = AppointmentId::parse("210502-20250701-003").expect("valid");
        assert_eq!(id.registry().to_string(), "210502000000");
        assert_eq!(id.day(), date!(2025 - 07 - 01));
        assert_eq!(id.ordinal(), 3);
        assert_eq!(id.to_string(), "210502-20250701-003");
        assert_eq!(id.day_key().as_str(), "210502-20250701");
        assert_eq!(MarriageId::registered(&id).as_str(), "J210502-20250701-003");
        assert_eq!(
            ApplicationId::received(&id).as_str(),
            "D210502-20250701-003"
        );
        assert_eq!(divorce_certificate_number(&id), "L210502-20250701-003");
    }

    #[test]
    fn malformed_appointment_ids_are_refused() {
        for bad in [
            "",
            "210502-20250701",
            "210502-20250701-03",
            "210502-20250701-000",
            "210502-20250231-001",
            "210500-20250701-001",
            "210502-20250701-001-1",
            "21050a-20250701-001",
        ] {
            assert_eq!(
                AppointmentId::parse(bad),
                Err(FormError::Appointment),
                "{bad}"
            );
        }
    }

    #[test]
    fn pseudonyms_are_32_lowercase_hex_digits() {
        assert!(Pseudonym::parse(&"0a".repeat(16)).is_ok());
        assert!(Pseudonym::parse(&"0A".repeat(16)).is_err());
        assert!(Pseudonym::parse(&"0a".repeat(15)).is_err());
    }

    #[test]
    fn archive_references_are_normalised_to_upper_case() {
        let typed = ArchiveReference::parse("bx-1998-0123").expect("valid");
        assert_eq!(typed.normalised(), "BX-1998-0123");
        assert_eq!(typed.as_str(), "bx-1998-0123");
    }

    #[test]
    fn backfilled_ids_are_a_prefix_and_the_pseudonym_of_the_reference() {
        let pseudonym = Pseudonym::parse(&"9c".repeat(16)).expect("valid");
        let divorce = ApplicationId::backfilled(&pseudonym);
        assert_eq!(divorce.as_str(), format!("DA-{}", "9c".repeat(16)));
        assert!(divorce.is_backfilled());
        assert_eq!(
            MarriageId::backfilled(&pseudonym).as_str(),
            format!("A-{}", "9c".repeat(16))
        );
        let received =
            ApplicationId::received(&AppointmentId::parse("210502-20250701-003").expect("valid"));
        assert!(!received.is_backfilled());
        // Ids stored before back-filled records were keyed by pseudonym keep their shape.
        assert!(
            ApplicationId::parse("DA-BX-2005-0045")
                .expect("valid")
                .is_backfilled()
        );
    }
}
