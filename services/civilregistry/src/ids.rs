//! The ids of the civil registry. Appointment ids are issued by the registry day that books
//! them, and the records that follow from an appointment take their ids from it:
//!
//! | what | form | example |
//! |---|---|---|
//! | appointment | `<county 6 digits>-<yyyymmdd>-<nnn>` | `210502-20250701-003` |
//! | marriage (and its certificate) | `J` + appointment id | `J210502-20250701-003` |
//! | back-filled marriage | `A-` + archive reference | `A-BX-1998-0123` |
//! | divorce application | `D` + appointment id | `D210502-20250701-004` |
//! | back-filled divorce (历史离婚档案补录) | `DA-` + archive reference | `DA-BX-2005-0045` |
//! | divorce certificate | `L` + appointment id | `L210502-20250801-002` |
//! | person, death | pseudonym: 32 lowercase hex digits | `5f0c…` |
//!
//! One registration per appointment makes the record ids unique and the commands idempotent:
//! registering on the same appointment twice addresses the same, already existing stream. No id
//! carries personal data: a person's streams are keyed by a [`Pseudonym`], a keyed hash of the
//! citizen id number that only the service can compute.

use std::fmt;

use minzheng_types::{IdError, RegionCode, RegionLevel, id_type};
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
    pub fn day_key(&self) -> String {
        day_key(self.registry, self.day)
    }
}

/// The stream key of a registry's day, `<county 6 digits>-<yyyymmdd>`.
pub fn day_key(registry: RegionCode, day: Date) -> String {
    format!(
        "{}-{:04}{:02}{:02}",
        &registry.to_string()[..6],
        day.year(),
        u8::from(day.month()),
        day.day()
    )
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
    /// The reference of a paper archive file (档案号).
    ArchiveReference
);

id_type!(
    /// A scanned document's id within its record, e.g. `p1`.
    DocumentId
);

impl MarriageId {
    /// The id (and certificate number) of a marriage registered on `appointment`.
    pub fn registered(appointment: &AppointmentId) -> Self {
        Self::prefixed("J", appointment)
    }

    /// The id of a marriage entered from the archive.
    pub fn backfilled(archive: &ArchiveReference) -> Result<Self, IdError> {
        Self::parse(&format!("A-{archive}"))
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

    /// The id of a divorce entered from the archive: `DA-` + the reference (an error when that
    /// is longer than an id may be, 64 characters).
    pub fn backfilled(archive: &ArchiveReference) -> Result<Self, IdError> {
        Self::parse(&format!("DA-{archive}"))
    }

    /// The archive reference of a back-filled divorce's id, `None` for an application received
    /// on an appointment.
    pub fn archive_reference(&self) -> Option<ArchiveReference> {
        self.as_str()
            .strip_prefix("DA-")
            .and_then(|reference| ArchiveReference::parse(reference).ok())
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
        assert_eq!(id.day_key(), "210502-20250701");
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
        assert_eq!(
            MarriageId::backfilled(&ArchiveReference::parse("BX-1998-0123").expect("valid"))
                .map(|m| m.to_string()),
            Ok("A-BX-1998-0123".to_owned())
        );
    }

    #[test]
    fn backfilled_divorce_ids_are_da_and_the_reference() {
        let reference = ArchiveReference::parse("BX-2005-0045").expect("valid");
        let id = ApplicationId::backfilled(&reference).expect("short enough");
        assert_eq!(id.as_str(), "DA-BX-2005-0045");
        assert_eq!(id.archive_reference(), Some(reference));
        let received =
            ApplicationId::received(&AppointmentId::parse("210502-20250701-003").expect("valid"));
        assert_eq!(received.archive_reference(), None);
        // 61 characters after "DA-" make 64: the longest id; one more is too long.
        let longest = ArchiveReference::parse(&"9".repeat(61)).expect("valid");
        assert!(ApplicationId::backfilled(&longest).is_ok());
        let too_long = ArchiveReference::parse(&"9".repeat(62)).expect("valid");
        assert_eq!(ApplicationId::backfilled(&too_long), Err(IdError::TooLong));
    }
}
