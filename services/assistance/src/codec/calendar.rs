//! The holiday calendar's event ([`calendar::Event`]) to its message and back:
//! [`calendar::CalendarLoaded`] ↔ `CalendarLoaded` (`proto/minzheng/assistance/v1/calendar.proto`).
//!
//! Decoding checks shape: every date is a date and the source is text. What the loading rules
//! decided is read as recorded, not checked again: a stored calendar with a date outside its
//! year, a make-up working day on a weekday or unsorted days still decodes (sorted and counted
//! once, as the domain event holds them), since it is history.

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::Decoder,
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::{assistance::v1 as pb, common::v1 as common};
use time::Date;

use crate::{calendar, ids::CalendarYear};

/// The schema version the calendar's events are written in.
pub const SCHEMA_VERSION: u32 = 1;

minzheng_host::event_codec! {
    calendar::Event, schema_version = SCHEMA_VERSION;
    Loaded(calendar::CalendarLoaded) <=> pb::CalendarLoaded,
}

impl ToMessage for calendar::CalendarLoaded {
    type Message = pb::CalendarLoaded;

    fn to_message(&self) -> pb::CalendarLoaded {
        pb::CalendarLoaded {
            year: self.year.0,
            holidays: self.holidays.iter().map(|d| (*d).into()).collect(),
            working_days: self.working_days.iter().map(|d| (*d).into()).collect(),
            source: self.source.as_str().to_owned(),
            loaded_on: Some(self.loaded_on.into()),
        }
    }
}

impl FromMessage<pb::CalendarLoaded> for calendar::CalendarLoaded {
    fn from_message(m: pb::CalendarLoaded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            year: CalendarYear(m.year),
            holidays: dates(d, "holidays", m.holidays)?,
            working_days: dates(d, "working_days", m.working_days)?,
            source: d.text("source", &m.source)?,
            loaded_on: d.date("loaded_on", &m.loaded_on)?,
        })
    }
}

/// A repeated date field, ascending and without duplicates as the domain event holds it.
fn dates(d: &Decoder<'_>, field: &str, dates: Vec<common::Date>) -> Result<Vec<Date>, CodecError> {
    let mut days = dates
        .into_iter()
        .map(|date| d.date(field, &Some(date)))
        .collect::<Result<Vec<_>, _>>()?;
    days.sort_unstable();
    days.dedup();
    Ok(days)
}

#[cfg(test)]
mod tests {
    use minzheng_kit::{aggregate::EventCodec, testing::assert_codec_round_trips};
    use prost::Message;
    use time::macros::date;

    use super::*;
    use crate::calendar::tests::{loaded_2025, source};

    const CALENDAR_LOADED: &str = minzheng_host::message_name!(pb::CalendarLoaded);

    #[test]
    fn every_event_round_trips() {
        let empty = calendar::Event::Loaded(calendar::CalendarLoaded {
            year: CalendarYear(2031),
            holidays: Vec::new(),
            working_days: Vec::new(),
            source: source("none yet"),
            loaded_on: date!(2030 - 11 - 01),
        });
        assert_codec_round_trips([loaded_2025(date!(2024 - 11 - 13)), empty]);
    }

    #[test]
    fn the_event_type_and_subject_follow_the_bus_contract() {
        let event = loaded_2025(date!(2024 - 11 - 13));
        assert_eq!(event.event_type(), "minzheng.assistance.v1.CalendarLoaded");
        // The bus drops the stream category from the front of the event's name.
        assert_eq!(
            minzheng_bus::naming::event_token("calendar", event.event_type()),
            "loaded"
        );
    }

    fn message() -> pb::CalendarLoaded {
        pb::CalendarLoaded::decode(loaded_2025(date!(2024 - 11 - 13)).encode()).expect("encoded")
    }

    fn decode(m: &pb::CalendarLoaded) -> Result<calendar::Event, CodecError> {
        calendar::Event::decode(CALENDAR_LOADED, SCHEMA_VERSION, &m.encode_to_vec())
    }

    #[test]
    fn stored_calendars_that_are_malformed_are_invalid() {
        let m = message();
        let not_a_date = common::Date {
            year: 2025,
            month: 2,
            day: 30,
        };
        for variant in [
            pb::CalendarLoaded {
                holidays: vec![not_a_date],
                ..m.clone()
            },
            pb::CalendarLoaded {
                working_days: vec![common::Date::default()],
                ..m.clone()
            },
            pb::CalendarLoaded {
                source: String::new(),
                ..m.clone()
            },
            pb::CalendarLoaded {
                loaded_on: None,
                ..m.clone()
            },
        ] {
            assert!(
                matches!(decode(&variant), Err(CodecError::Invalid { .. })),
                "{variant:?}"
            );
        }
        assert!(decode(&m).is_ok(), "the unchanged message decodes");
        assert!(matches!(
            calendar::Event::decode(CALENDAR_LOADED, 2, &m.encode_to_vec()),
            Err(CodecError::UnsupportedVersion { .. })
        ));
    }

    /// A calendar recorded against other rules is history: it decodes as recorded.
    #[test]
    fn stored_calendars_are_read_as_recorded() {
        let m = message();
        let outside_and_on_a_weekday = pb::CalendarLoaded {
            holidays: vec![date!(2025 - 10 - 02).into(), date!(2024 - 12 - 31).into()],
            working_days: vec![date!(2025 - 10 - 10).into(), date!(2025 - 10 - 10).into()],
            ..m
        };
        let Ok(calendar::Event::Loaded(read)) = decode(&outside_and_on_a_weekday) else {
            panic!("a calendar recorded under other rules decodes")
        };
        assert_eq!(
            read.holidays,
            vec![date!(2024 - 12 - 31), date!(2025 - 10 - 02)]
        );
        assert_eq!(read.working_days, vec![date!(2025 - 10 - 10)]);
    }
}
