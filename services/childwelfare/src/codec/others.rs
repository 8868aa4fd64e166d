//! The other services' events this service follows, as it reads them — its view of their public
//! contracts, so it lives here, not in the producers' crates (services never depend on each
//! other):
//!
//! - [`CivilRegistryDeaths`]: `minzheng.civilregistry.v1.DeathRecorded` (a child's death ends
//!   the allowance with the month of death);
//! - [`DataSharingAlerts`]: `minzheng.datasharing.v1.GuardiansDeceased`, the alert that every
//!   parent or guardian of a minor has died (主动发现: 父母双亡的未成年人), which opens a
//!   protection case. The data-sharing service's other alerts (`HouseholdAlertRaised` for
//!   assistance, `ElderlyLeftAlone` for elderly care) are not listed.
//!
//! Every other event type decodes to `None`.

use minzheng_host::{codec::FromMessage, decode::Decoder};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::{civilregistry::v1 as civil, datasharing::v1 as sharing};
use minzheng_types::{BoundedText, CitizenId, RegionCode};
use time::Date;

/// The schema version of the other services' events this service understands.
pub const SCHEMA_VERSION: u32 = 1;

/// The longest alert id the contract accepts, in characters.
const ALERT_ID_MAX_CHARS: usize = 128;

/// A death the civil registry recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Death {
    /// The death record's id (a pseudonym, never a citizen id number): the registration the
    /// child's record keeps.
    pub death_id: BoundedText,
    pub citizen: CitizenId,
    pub died_on: Date,
}

/// The civil registry's deaths.
#[derive(Debug, Clone, Copy)]
pub struct CivilRegistryDeaths;

minzheng_host::contract! {
    CivilRegistryDeaths => Death, schema_version = SCHEMA_VERSION;
    civil::DeathRecorded,
}

impl FromMessage<civil::DeathRecorded> for Death {
    fn from_message(m: civil::DeathRecorded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        if m.death_id.is_empty() {
            return Err(d.invalid("death_id is empty"));
        }
        Ok(Self {
            death_id: d.text("death_id", &m.death_id)?,
            citizen: d.citizen("citizen", &m.citizen)?,
            died_on: d.date("died_on", &m.died_on)?,
        })
    }
}

/// The data-sharing service's alert that every parent or guardian of a minor has died.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardiansDeceased {
    pub alert_id: String,
    pub child: CitizenId,
    /// The household's division as the alert gives it (township level by the contract), when
    /// it gives one.
    pub division: Option<RegionCode>,
    pub raised_on: Date,
}

/// The data-sharing service's alerts this service acts on.
#[derive(Debug, Clone, Copy)]
pub struct DataSharingAlerts;

minzheng_host::contract! {
    DataSharingAlerts => GuardiansDeceased, schema_version = SCHEMA_VERSION;
    sharing::GuardiansDeceased,
}

impl FromMessage<sharing::GuardiansDeceased> for GuardiansDeceased {
    fn from_message(m: sharing::GuardiansDeceased, d: &Decoder<'_>) -> Result<Self, CodecError> {
        if m.alert_id.is_empty() || m.alert_id.chars().count() > ALERT_ID_MAX_CHARS {
            return Err(d.invalid("alert_id is empty or too long"));
        }
        let division = match &m.division {
            Some(code) if !code.code.is_empty() => Some(d.code("division", &m.division)?),
            _ => None,
        };
        Ok(Self {
            alert_id: m.alert_id,
            child: d.citizen("child", &m.child)?,
            division,
            raised_on: d.date("raised_on", &m.raised_on)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use minzheng_proto::common::v1 as common;
    use prost::{Message as _, Name as _};
    use time::macros::date;

    use super::*;

    fn child() -> CitizenId {
        CitizenId::from_parts("210502", date!(2012 - 05 - 01), 11).expect("valid")
    }

    fn alert(division: Option<&str>) -> sharing::GuardiansDeceased {
        sharing::GuardiansDeceased {
            alert_id: "CW-0123456789abcdef".to_owned(),
            child: Some(common::CitizenRef::from(&child())),
            deaths: vec![sharing::DeathSource {
                death_id: "d1".to_owned(),
                died_on: Some(date!(2025 - 03 - 01).into()),
            }],
            household_source: sharing::HouseholdSource::Registration.into(),
            division: division.map(|code| common::RegionCode {
                code: code.to_owned(),
            }),
            raised_on: Some(date!(2025 - 03 - 02).into()),
        }
    }

    fn decode_alert(
        message: &sharing::GuardiansDeceased,
    ) -> Result<Option<GuardiansDeceased>, CodecError> {
        DataSharingAlerts::decode_payload(
            &sharing::GuardiansDeceased::full_name(),
            SCHEMA_VERSION,
            &message.encode_to_vec(),
        )
    }

    #[test]
    fn only_the_guardians_deceased_alert_is_followed() {
        assert_eq!(
            DataSharingAlerts::EVENT_TYPES,
            ["minzheng.datasharing.v1.GuardiansDeceased"]
        );
        let left_alone = sharing::ElderlyLeftAlone {
            alert_id: "EA-1".to_owned(),
            ..Default::default()
        };
        let household = sharing::HouseholdAlertRaised {
            alert_id: "HA-1".to_owned(),
            ..Default::default()
        };
        for (event_type, payload) in [
            (
                sharing::ElderlyLeftAlone::full_name(),
                left_alone.encode_to_vec(),
            ),
            (
                sharing::HouseholdAlertRaised::full_name(),
                household.encode_to_vec(),
            ),
        ] {
            assert!(
                matches!(
                    DataSharingAlerts::decode_payload(&event_type, SCHEMA_VERSION, &payload),
                    Ok(None)
                ),
                "{event_type} is not this service's"
            );
        }
    }

    #[test]
    fn an_alert_decodes_with_or_without_a_division() {
        let decoded = decode_alert(&alert(Some("210502001000")))
            .expect("decodes")
            .expect("listed");
        assert_eq!(
            decoded,
            GuardiansDeceased {
                alert_id: "CW-0123456789abcdef".to_owned(),
                child: child(),
                division: Some(RegionCode::parse("210502001000").expect("valid")),
                raised_on: date!(2025 - 03 - 02),
            }
        );
        for none in [None, Some("")] {
            let decoded = decode_alert(&alert(none))
                .expect("decodes")
                .expect("listed");
            assert_eq!(decoded.division, None);
        }
    }

    #[test]
    fn a_malformed_alert_is_invalid() {
        let mut no_id = alert(None);
        no_id.alert_id.clear();
        let mut no_child = alert(None);
        no_child.child = None;
        let bad_division = alert(Some("21050"));
        for message in [no_id, no_child, bad_division] {
            assert!(matches!(
                decode_alert(&message),
                Err(CodecError::Invalid { .. })
            ));
        }
        assert!(matches!(
            DataSharingAlerts::decode_payload(
                &sharing::GuardiansDeceased::full_name(),
                SCHEMA_VERSION + 1,
                &alert(None).encode_to_vec(),
            ),
            Err(CodecError::UnsupportedVersion { .. })
        ));
    }

    #[test]
    fn a_death_decodes_its_registration_person_and_day() {
        let message = civil::DeathRecorded {
            death_id: "7f3a".to_owned(),
            citizen: Some(common::CitizenRef::from(&child())),
            name: "某某".to_owned(),
            died_on: Some(date!(2025 - 04 - 10).into()),
            ..Default::default()
        };
        let decoded = CivilRegistryDeaths::decode_payload(
            &civil::DeathRecorded::full_name(),
            SCHEMA_VERSION,
            &message.encode_to_vec(),
        )
        .expect("decodes")
        .expect("listed");
        assert_eq!(decoded.death_id.as_str(), "7f3a");
        assert_eq!(decoded.citizen, child());
        assert_eq!(decoded.died_on, date!(2025 - 04 - 10));
        let empty = civil::DeathRecorded {
            death_id: String::new(),
            ..message
        };
        assert!(
            CivilRegistryDeaths::decode_payload(
                &civil::DeathRecorded::full_name(),
                SCHEMA_VERSION,
                &empty.encode_to_vec(),
            )
            .is_err()
        );
        assert!(matches!(
            CivilRegistryDeaths::decode_payload(
                "minzheng.civilregistry.v1.MarriageRegistered",
                SCHEMA_VERSION,
                &[],
            ),
            Ok(None)
        ));
    }
}
