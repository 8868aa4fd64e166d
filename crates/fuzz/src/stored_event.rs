//! Every event decoder over arbitrary payloads: each service's aggregate codecs and each
//! reader's contract over another service's events.
//!
//! A stored event is history, and a consumer reads what another service published: a payload
//! that is not the event it claims to be must be a `CodecError`, never a panic (a panic in a
//! live view or a consumer stops the service or parks good events behind it).

use std::fmt::Debug;

use minzheng_assistance::codec::{
    civilregistry::CivilRegistryEvents, datasharing::DataSharingEvents,
    placenames::PlaceNamesDivisions as AssistanceDivisions,
};
use minzheng_childwelfare::codec::others::{
    CivilRegistryDeaths as ChildWelfareDeaths, DataSharingAlerts as ChildWelfareAlerts,
};
use minzheng_civilregistry::codec::{
    assistance::AssistanceEvents, placenames::PlaceNamesDivisions,
};
use minzheng_datasharing::codec::assistance::AssistanceEvents as DataSharingAssistanceEvents;
use minzheng_eldercare::codec::others::{AssistanceCases, CivilRegistryDeaths, DataSharingAlerts};
use minzheng_host::divisions::placenames::PlaceNamesDivisions as SharedDivisions;
use minzheng_kit::aggregate::EventCodec;

/// The schema version every service's events are stored in today. A codec that moves on makes
/// `every_listed_type_is_read_in_the_fuzzed_version` (tests/) fail, so this cannot go stale.
pub const SCHEMA_VERSION: u32 = 1;

/// Splits `data` into an event type (up to the first newline) and a payload (the rest), and
/// decodes the payload as that type with every codec and contract. An event a codec accepts
/// encodes back to an event that decodes to itself, under the type it was read as; a division
/// event the place-names codec accepts is read by the civil registry's and the assistance
/// service's views of it too, and an assistance event the civil registry follows by the civil
/// registry's view, a death by the elderly-care and the child-welfare services' views (a reader
/// never refuses what its producer writes).
pub fn run(data: &[u8]) {
    let (event_type, payload) = split(data);
    let Ok(event_type) = std::str::from_utf8(event_type) else {
        return;
    };
    use minzheng_assistance as asst;
    use minzheng_childwelfare as cw;
    use minzheng_civilregistry as cr;
    use minzheng_datasharing as ds;
    use minzheng_eldercare as ec;
    use minzheng_placenames as pn;
    if let Some(division) = round_trip::<pn::division::Event>(event_type, payload) {
        let decoded =
            SharedDivisions::decode_payload(event_type, SCHEMA_VERSION, &division.encode());
        assert!(
            decoded.is_ok(),
            "the elderly-care service reads the division event {division:?}: {decoded:?}"
        );
        let decoded =
            PlaceNamesDivisions::decode_payload(event_type, SCHEMA_VERSION, &division.encode());
        assert!(
            matches!(decoded, Ok(Some(_))),
            "the civil registry reads the division event {division:?}: {decoded:?}"
        );
        let decoded =
            AssistanceDivisions::decode_payload(event_type, SCHEMA_VERSION, &division.encode());
        assert!(
            decoded.is_ok(),
            "the assistance service reads the division event {division:?}: {decoded:?}"
        );
    }
    if let Some(event) = round_trip::<asst::case::Event>(event_type, payload) {
        let decoded = AssistanceEvents::decode_payload(event_type, SCHEMA_VERSION, &event.encode());
        assert!(
            decoded.is_ok(),
            "the civil registry reads the assistance event {event:?}: {decoded:?}"
        );
        let decoded = DataSharingAssistanceEvents::decode_payload(
            event_type,
            SCHEMA_VERSION,
            &event.encode(),
        );
        assert!(
            decoded.is_ok(),
            "the data-sharing service reads the assistance event {event:?}: {decoded:?}"
        );
        let decoded = AssistanceCases::decode_payload(event_type, SCHEMA_VERSION, &event.encode());
        assert!(
            decoded.is_ok(),
            "the elderly-care service reads the assistance event {event:?}: {decoded:?}"
        );
    }
    if let Some(event) = round_trip::<asst::policy::Event>(event_type, payload) {
        let decoded = DataSharingAssistanceEvents::decode_payload(
            event_type,
            SCHEMA_VERSION,
            &event.encode(),
        );
        assert!(
            decoded.is_ok(),
            "the data-sharing service reads the standard {event:?}: {decoded:?}"
        );
    }
    round_trip::<ds::agreement::Event>(event_type, payload);
    round_trip::<ds::authorization::Event>(event_type, payload);
    round_trip::<ds::thresholds::Event>(event_type, payload);
    round_trip::<ds::load::Event>(event_type, payload);
    round_trip::<asst::calendar::Event>(event_type, payload);
    round_trip::<asst::fund::Event>(event_type, payload);
    round_trip::<asst::cycle::Event>(event_type, payload);
    round_trip::<asst::ledger::Event>(event_type, payload);
    round_trip::<asst::referral::Event>(event_type, payload);
    round_trip::<pn::adjustment::Event>(event_type, payload);
    round_trip::<pn::placename::Event>(event_type, payload);
    round_trip::<pn::boundary::Event>(event_type, payload);
    round_trip::<pn::sign::Event>(event_type, payload);
    round_trip::<cr::registry_day::Event>(event_type, payload);
    round_trip::<cr::registry::Event>(event_type, payload);
    round_trip::<cr::person::Event>(event_type, payload);
    round_trip::<cr::marriage::Event>(event_type, payload);
    round_trip::<cr::divorce::Event>(event_type, payload);
    if let Some(event) = round_trip::<cr::death::Event>(event_type, payload) {
        let decoded =
            CivilRegistryDeaths::decode_payload(event_type, SCHEMA_VERSION, &event.encode());
        assert!(
            decoded.is_ok(),
            "the elderly-care service reads the death event {event:?}: {decoded:?}"
        );
        let decoded =
            ChildWelfareDeaths::decode_payload(event_type, SCHEMA_VERSION, &event.encode());
        assert!(
            decoded.is_ok(),
            "the child-welfare service reads the death event {event:?}: {decoded:?}"
        );
    }
    round_trip::<ec::institution::Event>(event_type, payload);
    round_trip::<ec::service_point::Event>(event_type, payload);
    round_trip::<ec::elder::Event>(event_type, payload);
    round_trip::<ec::subsidy::Event>(event_type, payload);
    round_trip::<ec::population::Event>(event_type, payload);
    round_trip::<cw::allowance::Event>(event_type, payload);
    round_trip::<cw::child::Event>(event_type, payload);
    round_trip::<cw::protection::Event>(event_type, payload);
    round_trip::<cw::post::Event>(event_type, payload);
    let _ = PlaceNamesDivisions::decode_payload(event_type, SCHEMA_VERSION, payload);
    let _ = AssistanceEvents::decode_payload(event_type, SCHEMA_VERSION, payload);
    let _ = AssistanceDivisions::decode_payload(event_type, SCHEMA_VERSION, payload);
    let _ = CivilRegistryEvents::decode_payload(event_type, SCHEMA_VERSION, payload);
    let _ = DataSharingEvents::decode_payload(event_type, SCHEMA_VERSION, payload);
    let _ = DataSharingAssistanceEvents::decode_payload(event_type, SCHEMA_VERSION, payload);
    let _ = SharedDivisions::decode_payload(event_type, SCHEMA_VERSION, payload);
    let _ = AssistanceCases::decode_payload(event_type, SCHEMA_VERSION, payload);
    let _ = CivilRegistryDeaths::decode_payload(event_type, SCHEMA_VERSION, payload);
    let _ = DataSharingAlerts::decode_payload(event_type, SCHEMA_VERSION, payload);
    let _ = ChildWelfareDeaths::decode_payload(event_type, SCHEMA_VERSION, payload);
    let _ = ChildWelfareAlerts::decode_payload(event_type, SCHEMA_VERSION, payload);
}

/// Every event type some decoder reads, for seeding the corpus and checking coverage.
pub fn event_types() -> Vec<&'static str> {
    use minzheng_assistance as asst;
    use minzheng_childwelfare as cw;
    use minzheng_civilregistry as cr;
    use minzheng_datasharing as ds;
    use minzheng_eldercare as ec;
    use minzheng_placenames as pn;
    let mut types: Vec<&'static str> = [
        asst::case::Event::EVENT_TYPES,
        asst::policy::Event::EVENT_TYPES,
        asst::calendar::Event::EVENT_TYPES,
        asst::fund::Event::EVENT_TYPES,
        asst::cycle::Event::EVENT_TYPES,
        asst::ledger::Event::EVENT_TYPES,
        asst::referral::Event::EVENT_TYPES,
        CivilRegistryEvents::EVENT_TYPES,
        DataSharingEvents::EVENT_TYPES,
        pn::division::Event::EVENT_TYPES,
        pn::adjustment::Event::EVENT_TYPES,
        pn::placename::Event::EVENT_TYPES,
        pn::boundary::Event::EVENT_TYPES,
        pn::sign::Event::EVENT_TYPES,
        cr::registry_day::Event::EVENT_TYPES,
        cr::registry::Event::EVENT_TYPES,
        cr::person::Event::EVENT_TYPES,
        cr::marriage::Event::EVENT_TYPES,
        cr::divorce::Event::EVENT_TYPES,
        cr::death::Event::EVENT_TYPES,
        PlaceNamesDivisions::EVENT_TYPES,
        AssistanceEvents::EVENT_TYPES,
        ds::agreement::Event::EVENT_TYPES,
        ds::authorization::Event::EVENT_TYPES,
        ds::thresholds::Event::EVENT_TYPES,
        ds::load::Event::EVENT_TYPES,
        DataSharingAssistanceEvents::EVENT_TYPES,
        ec::institution::Event::EVENT_TYPES,
        ec::service_point::Event::EVENT_TYPES,
        ec::elder::Event::EVENT_TYPES,
        ec::subsidy::Event::EVENT_TYPES,
        ec::population::Event::EVENT_TYPES,
        SharedDivisions::EVENT_TYPES,
        AssistanceCases::EVENT_TYPES,
        CivilRegistryDeaths::EVENT_TYPES,
        DataSharingAlerts::EVENT_TYPES,
        cw::allowance::Event::EVENT_TYPES,
        cw::child::Event::EVENT_TYPES,
        cw::protection::Event::EVENT_TYPES,
        cw::post::Event::EVENT_TYPES,
        ChildWelfareDeaths::EVENT_TYPES,
        ChildWelfareAlerts::EVENT_TYPES,
    ]
    .concat();
    types.sort_unstable();
    types.dedup();
    types
}

/// The input that asks `run` to decode `payload` as `event_type`.
pub fn input(event_type: &str, payload: &[u8]) -> Vec<u8> {
    [event_type.as_bytes(), b"\n", payload].concat()
}

fn split(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(newline) => (&data[..newline], &data[newline + 1..]),
        None => (data, &[]),
    }
}

/// Decodes with `E`'s codec; an accepted event must survive encoding and decoding unchanged.
fn round_trip<E: EventCodec + PartialEq + Debug>(event_type: &str, payload: &[u8]) -> Option<E> {
    let event = E::decode(event_type, SCHEMA_VERSION, payload).ok()?;
    assert_eq!(
        event.event_type(),
        event_type,
        "an event keeps the type it was read as"
    );
    match E::decode(event.event_type(), event.schema_version(), &event.encode()) {
        Ok(again) => assert_eq!(again, event, "an accepted event changed in a round trip"),
        Err(error) => panic!("an accepted event {event:?} does not decode once encoded: {error}"),
    }
    Some(event)
}
