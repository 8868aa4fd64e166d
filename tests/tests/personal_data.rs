//! No personal data leaves the payloads: a citizen id number typed into every free-text field
//! of every command (names, references, notes, addresses, reasons), and the parties' own id
//! numbers (and the assistance households' bank account, the name and phone of a person who
//! reported a child and of a child director), must appear in no stream key, no NATS subject, no
//! message header (CloudEvents `ce-subject` included), no log line and no span field. The
//! payloads may hold them: they are the record (a reporter's identity only sealed).
//!
//! The services run as Kubernetes runs them (distributed: PostgreSQL and JetStream): the
//! place-names service, the civil registry, the social-assistance service, the data-sharing
//! stand-in that answers its verification requests through the bus, the elderly-care and the
//! child-welfare services. The test captures every stream id in their stores, every message on
//! the hosts' bus prefix, and every event and span field formatted by a tracing layer installed
//! for the whole test binary (one test, so the global subscriber sees only it).
//!
//! The free-text fields are found in the request descriptors (every `string` field of a
//! command's request, nested messages included, that is not an id, a code, a token or another
//! checked form), and the test fails when one of them was not sent with the id number, so a new
//! free-text field cannot slip by. Each RPC is also called once with every string field set to
//! the id number, whatever the answer, so the refusal paths are checked too.

use std::{
    collections::{BTreeSet, HashMap},
    fmt::Write as _,
    sync::{Arc, Mutex},
    time::Duration,
};

use bytes::{BufMut as _, Bytes};
use futures::StreamExt as _;
use minzheng_assistance::stand_in::{DataSharingStandIn, Verifications};
use minzheng_eventstore::{Cursor, Upcasters};
use minzheng_host::{
    edge::PURPOSE_HEADER,
    testing::{PROVINCE, RawCodec, TestHost, token, with_token},
};
use minzheng_kit::{auth::Role, clock::FixedClock};
use minzheng_placenames::BENXI;
use minzheng_proto::{
    FILE_DESCRIPTOR_SET,
    assistance::v1::{self as aid, assistance_service_client::AssistanceServiceClient},
    childwelfare::v1::{self as child, child_welfare_service_client::ChildWelfareServiceClient},
    civilregistry::v1::{self as pb, civil_registry_service_client::CivilRegistryServiceClient},
    common::v1 as common,
    datasharing::v1 as datasharing,
    eldercare::v1::{self as elder, elder_care_service_client::ElderCareServiceClient},
    placenames::v1::{self as placenames, place_names_service_client::PlaceNamesServiceClient},
};
use prost::Message as _;
use prost_types::{DescriptorProto, FileDescriptorSet, field_descriptor_proto::Type};
use secrecy::SecretString;
use time::macros::date;
use tonic::transport::Channel;
use tracing::{
    Subscriber,
    field::{Field, Visit},
    span,
};
use tracing_subscriber::{
    Layer,
    filter::{LevelFilter, Targets},
    layer::{Context, SubscriberExt as _},
    registry::Registry,
};

/// The number typed into every free-text field (a valid GB 11643 number).
const TYPED: &str = "11010519491231002X";
/// The parties: a man born 1990-05-01 and a woman born 1995-03-08, married on an appointment;
/// another couple whose marriage and divorce are back-filled from the archive.
const HUSBAND: &str = "210502199005010014";
const WIFE: &str = "210502199503080023";
const OTHER_MAN: &str = "210502198801010010";
const OTHER_WOMAN: &str = "210502199601010029";
/// The social-assistance households (社会救助), all of 南地街道 in 平山区: a couple of pensioners
/// granted the minimum living allowance (低保) and then reviewed, suspended, resumed and ended; a
/// man whose dibao application is rejected; a woman of 87 unable to look after herself, applying
/// for extreme-poverty support (特困供养) cared for at home; two adults struck by accidents
/// (temporary assistance, 临时救助), one paid at once from the township's reserve fund, one
/// transferred to the county; a man named by a data-sharing alert (a referral, 主动发现).
const PENSIONER: &str = "210502195001010019";
const PENSIONER_WIFE: &str = "210502195203040021";
const REJECTED: &str = "210502196210100031";
const TEKUN: &str = "210502193901010103";
const ACCIDENT_PAID: &str = "210502198606060071";
const ACCIDENT_TRANSFERRED: &str = "210502198009090088";
const ALERTED: &str = "210502197511110094";
/// The assistance households' bank account (PERSONAL DATA too: it is in the bank file).
const ACCOUNT: &str = "6217000012345678";
/// The child-welfare service's people, all of 南地街道: a boy born 2015-06-01, orphaned,
/// identified and cared for in an institution, and the subject of two reports; a girl born
/// 2020-03-01 adopted by a married couple (a man born 1985, a woman born 1987); the teacher who
/// reported the boy, by name and phone; the child director of 南地社区, by name, phone and id
/// number.
const ORPHAN: &str = "210502201506010119";
const ADOPTED: &str = "210502202003010218";
const ADOPTER: &str = "210502198503010311";
const ADOPTER_WIFE: &str = "210502198705050426";
const REPORTER_NAME: &str = "李报告";
const REPORTER_PHONE: &str = "13900001111";
const DIRECTOR_NAME: &str = "赵主任";
const DIRECTOR_PHONE: &str = "13800002222";
const DIRECTOR: &str = "210502198001010514";
const PERSONAL: [&str; 22] = [
    TYPED,
    HUSBAND,
    WIFE,
    OTHER_MAN,
    OTHER_WOMAN,
    PENSIONER,
    PENSIONER_WIFE,
    REJECTED,
    TEKUN,
    ACCIDENT_PAID,
    ACCIDENT_TRANSFERRED,
    ALERTED,
    ACCOUNT,
    ORPHAN,
    ADOPTED,
    ADOPTER,
    ADOPTER_WIFE,
    REPORTER_NAME,
    REPORTER_PHONE,
    DIRECTOR_NAME,
    DIRECTOR_PHONE,
    DIRECTOR,
];

const PINGSHAN: &str = "210502000000";
const XIHU: &str = "210503000000";
/// 南地街道, a township of 平山区.
const NANDI: &str = "210502001000";
/// 南地社区, a community of 南地街道.
const NANDI_COMMUNITY: &str = "210502001002";
const BENXI_CITY: &str = "210500000000";
const PSEUDONYM_KEY: &str = "personal-data-test-pseudonym-key-32-bytes";
/// The child-welfare service's key that seals reporters' identities (distinct from every other).
const REPORTER_KEY: &str = "personal-data-test-reporter-key-of-32-bytes";
const SERVICES: [&str; 5] = [
    "minzheng.placenames.v1.PlaceNamesService",
    "minzheng.civilregistry.v1.CivilRegistryService",
    "minzheng.assistance.v1.AssistanceService",
    "minzheng.eldercare.v1.ElderCareService",
    "minzheng.childwelfare.v1.ChildWelfareService",
];

/// String fields that are not free text: ids and codes (checked forms the services parse),
/// client tokens, hashes, media types, search prefixes, pinyin (letters and tone marks only),
/// a bank account (8 to 32 digits: a number cannot hold the typed one, whose check character is
/// `X`; the account itself is among [`PERSONAL`]).
fn is_free_text(field: &str) -> bool {
    !(field.ends_with("_id")
        || matches!(
            field,
            "code"
                | "idempotency_key"
                | "page_token"
                | "sha256"
                | "media_type"
                | "name_prefix"
                | "prefix"
                | "pinyin"
                | "replaces"
                | "payment_account"
        ))
}

/// Every formatted event and span field, one string each.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<String>>>);

impl Captured {
    fn push(&self, line: String) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(line);
    }

    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Formats fields as the fmt layer does (`%` fields by `Display`, `?` fields by `Debug`).
struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={value}", field.name());
    }
}

impl<S: Subscriber> Layer<S> for Captured {
    fn on_new_span(&self, attrs: &span::Attributes<'_>, _: &span::Id, _: Context<'_, S>) {
        let mut line = Line(format!("span {}", attrs.metadata().name()));
        attrs.record(&mut line);
        self.push(line.0);
    }

    fn on_record(&self, _: &span::Id, values: &span::Record<'_>, _: Context<'_, S>) {
        let mut line = Line("span record".to_owned());
        values.record(&mut line);
        self.push(line.0);
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut line = Line(format!(
            "{} {}",
            event.metadata().level(),
            event.metadata().target()
        ));
        event.record(&mut line);
        self.push(line.0);
    }
}

/// The request messages of the services, by full name, and their methods' paths.
struct Descriptors {
    messages: HashMap<String, DescriptorProto>,
    /// `(path, input type)` of every RPC of [`SERVICES`].
    rpcs: Vec<(String, String)>,
}

impl Descriptors {
    fn load() -> Self {
        let set = FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).expect("the descriptor set");
        let mut messages = HashMap::new();
        let mut rpcs = Vec::new();
        for file in &set.file {
            let package = file.package();
            for message in &file.message_type {
                collect(package, message, &mut messages);
            }
            for service in &file.service {
                let name = format!("{package}.{}", service.name());
                if SERVICES.contains(&name.as_str()) {
                    for method in &service.method {
                        rpcs.push((
                            format!("/{name}/{}", method.name()),
                            method.input_type().trim_start_matches('.').to_owned(),
                        ));
                    }
                }
            }
        }
        Self { messages, rpcs }
    }

    fn message(&self, name: &str) -> &DescriptorProto {
        &self.messages[name.trim_start_matches('.')]
    }

    fn is_command(&self, input: &str) -> bool {
        self.message(input)
            .field
            .iter()
            .any(|f| f.type_name() == ".minzheng.common.v1.CommandMetadata")
    }

    /// `Message.field` of every free-text string field of every command's request.
    fn free_text_fields(&self) -> BTreeSet<String> {
        let mut fields = BTreeSet::new();
        for (_, input) in &self.rpcs {
            if self.is_command(input) {
                self.strings_in(input, &mut Vec::new(), &mut fields);
            }
        }
        fields.retain(|f| is_free_text(f.rsplit('.').next().unwrap_or_default()));
        fields
    }

    fn strings_in(&self, message: &str, seen: &mut Vec<String>, out: &mut BTreeSet<String>) {
        if seen.iter().any(|m| m == message) {
            return;
        }
        seen.push(message.to_owned());
        let descriptor = self.message(message).clone();
        for field in &descriptor.field {
            match field.r#type() {
                Type::String => {
                    out.insert(format!("{message}.{}", field.name()));
                }
                Type::Message => {
                    self.strings_in(field.type_name().trim_start_matches('.'), seen, out)
                }
                _ => {}
            }
        }
        seen.pop();
    }

    /// The string fields of an encoded `message` (nested ones too) that contain `needle`.
    fn fields_containing(
        &self,
        message: &str,
        mut bytes: &[u8],
        needle: &str,
        out: &mut BTreeSet<String>,
    ) {
        let descriptor = self.message(message);
        while !bytes.is_empty() {
            let key = prost::encoding::decode_varint(&mut bytes).expect("a field key");
            let (number, wire_type) = (key >> 3, key & 7);
            let value: &[u8] = match wire_type {
                0 => {
                    prost::encoding::decode_varint(&mut bytes).expect("a varint");
                    continue;
                }
                1 => {
                    bytes = &bytes[8..];
                    continue;
                }
                5 => {
                    bytes = &bytes[4..];
                    continue;
                }
                2 => {
                    let len = prost::encoding::decode_varint(&mut bytes).expect("a length");
                    let (value, rest) = bytes.split_at(usize::try_from(len).expect("small"));
                    bytes = rest;
                    value
                }
                other => panic!("unexpected wire type {other}"),
            };
            let Some(field) = descriptor
                .field
                .iter()
                .find(|f| i64::from(f.number()) == i64::try_from(number).unwrap_or(-1))
            else {
                continue;
            };
            match field.r#type() {
                Type::String if String::from_utf8_lossy(value).contains(needle) => {
                    out.insert(format!("{message}.{}", field.name()));
                }
                Type::Message => self.fields_containing(
                    field.type_name().trim_start_matches('.'),
                    value,
                    needle,
                    out,
                ),
                _ => {}
            }
        }
    }

    /// A request of type `message` whose every string field (nested ones too, one element of
    /// each repeated field) is `text`.
    fn encode_all_strings(&self, message: &str, text: &str, depth: usize) -> Vec<u8> {
        let mut buffer = Vec::new();
        if depth > 3 {
            return buffer;
        }
        for field in &self.message(message).field {
            let value = match field.r#type() {
                Type::String => text.as_bytes().to_vec(),
                Type::Message => self.encode_all_strings(
                    field.type_name().trim_start_matches('.'),
                    text,
                    depth + 1,
                ),
                _ => continue,
            };
            let number = u64::try_from(field.number()).expect("positive");
            prost::encoding::encode_varint(number << 3 | 2, &mut buffer);
            prost::encoding::encode_varint(value.len() as u64, &mut buffer);
            buffer.put_slice(&value);
        }
        buffer
    }
}

fn collect(scope: &str, message: &DescriptorProto, into: &mut HashMap<String, DescriptorProto>) {
    let name = format!("{scope}.{}", message.name());
    for nested in &message.nested_type {
        collect(&name, nested, into);
    }
    into.insert(name, message.clone());
}

/// What the test sent: each request's full message name and its encoding.
#[derive(Default)]
struct Sent(Vec<(String, Vec<u8>)>);

impl Sent {
    fn note<M: prost::Name>(&mut self, message: &M) {
        self.0.push((M::full_name(), message.encode_to_vec()));
    }
}

/// Notes `request` in `sent`, sends it with `token` through `client.method` and returns the
/// answer, panicking with the status when refused.
macro_rules! command {
    ($sent:expr, $client:expr, $method:ident, $token:expr, $request:expr) => {{
        let request = $request;
        $sent.note(&request);
        $client
            .$method(with_token(request, $token))
            .await
            .unwrap_or_else(|status| panic!("{}: {status:?}", stringify!($method)))
            .into_inner()
    }};
}

fn metadata() -> Option<common::CommandMetadata> {
    Some(common::CommandMetadata {
        idempotency_key: uuid::Uuid::now_v7().to_string(),
        correlation_id: String::new(),
    })
}

fn citizen(number: &str) -> Option<common::CitizenRef> {
    Some(common::CitizenRef {
        citizen_id: number.to_owned(),
    })
}

fn region(code: &str) -> Option<common::RegionCode> {
    Some(common::RegionCode {
        code: code.to_owned(),
    })
}

fn day(d: time::Date) -> Option<common::Date> {
    Some(d.into())
}

/// A name, a note, a reference: the typed id number inside some text.
fn text() -> String {
    format!("见{TYPED}")
}

fn party(number: &str) -> pb::Party {
    pb::Party {
        citizen: citizen(number),
        name: text(),
    }
}

fn checks(numbers: &[&str]) -> Vec<pb::Verification> {
    numbers
        .iter()
        .flat_map(|n| {
            [
                pb::VerificationKind::IdDocument,
                pb::VerificationKind::FaceComparison,
                pb::VerificationKind::ESignature,
            ]
            .into_iter()
            .map(move |kind| pb::Verification {
                party: citizen(n),
                kind: kind.into(),
                method: text(),
                outcome: pb::VerificationOutcome::Passed.into(),
                score_permille: if kind == pb::VerificationKind::FaceComparison {
                    962
                } else {
                    0
                },
            })
        })
        .collect()
}

/// The civil registry's commands, every free-text field holding [`TYPED`]: a marriage on an
/// appointment with a scanned document, a marriage and its divorce back-filled from an archive
/// file whose reference is the number itself, a death and its funeral.
async fn civil_registry_commands(
    client: &mut CivilRegistryServiceClient<Channel>,
    clock: &FixedClock,
    sent: &mut Sent,
) {
    let staff = token(&[Role::Caseworker], &[PINGSHAN]);
    let approver = token(&[Role::Approver], &[PINGSHAN]);
    let agency = token(&[Role::Agency], &["210500000000"]);
    let wedding = date!(2025 - 06 - 10);
    let publish = pb::PublishSlotsRequest {
        metadata: metadata(),
        registry: region(PINGSHAN),
        day: day(wedding),
        slots: vec![pb::Slot {
            slot_id: "0900".into(),
            capacity: 2,
        }],
    };
    sent.note(&publish);
    client
        .publish_slots(with_token(publish, &approver))
        .await
        .expect("slots published");
    let book = pb::BookAppointmentRequest {
        metadata: metadata(),
        registry: region(PINGSHAN),
        day: day(wedding),
        slot_id: "0900".into(),
        service: pb::AppointmentService::Marriage.into(),
        parties: vec![citizen(HUSBAND).expect("set"), citizen(WIFE).expect("set")],
    };
    sent.note(&book);
    let appointment_id = client
        .book_appointment(with_token(book, &agency))
        .await
        .expect("booked")
        .into_inner()
        .appointment_id;
    clock.set(wedding);
    client
        .check_in_appointment(with_token(
            pb::CheckInAppointmentRequest {
                metadata: metadata(),
                appointment_id: appointment_id.clone(),
            },
            &staff,
        ))
        .await
        .expect("checked in");
    let register = pb::RegisterMarriageRequest {
        metadata: metadata(),
        appointment_id,
        parties: vec![party(HUSBAND), party(WIFE)],
        verifications: checks(&[HUSBAND, WIFE]),
    };
    sent.note(&register);
    let marriage_id = client
        .register_marriage(with_token(register, &staff))
        .await
        .expect("registered")
        .into_inner()
        .marriage_id;
    let attach = pb::AttachArchiveDocumentRequest {
        metadata: metadata(),
        record_id: marriage_id,
        document: Some(pb::ArchiveDocument {
            document_id: "p1".into(),
            sha256: "ab".repeat(32),
            storage_uri: format!("s3://bx-archive/{TYPED}/p1.pdf"),
            media_type: "application/pdf".into(),
        }),
    };
    sent.note(&attach);
    client
        .attach_archive_document(with_token(attach, &staff))
        .await
        .expect("document attached");

    let backfill = pb::BackfillMarriageRequest {
        metadata: metadata(),
        archive_reference: TYPED.into(),
        certificate_number: text(),
        registry: region(PINGSHAN),
        registered_on: day(date!(2020 - 05 - 20)),
        parties: vec![party(OTHER_MAN), party(OTHER_WOMAN)],
    };
    sent.note(&backfill);
    let backfilled = client
        .backfill_marriage(with_token(backfill.clone(), &staff))
        .await
        .expect("back-filled")
        .into_inner();
    // The same archive file entered again is recognised: nothing new is recorded.
    let again = client
        .backfill_marriage(with_token(
            pb::BackfillMarriageRequest {
                metadata: metadata(),
                ..backfill
            },
            &staff,
        ))
        .await
        .expect("the same back-fill answers the same")
        .into_inner();
    assert_eq!(again.marriage_id, backfilled.marriage_id);
    let first = backfilled
        .result
        .as_ref()
        .expect("the first back-fill recorded");
    let repeat = again
        .result
        .as_ref()
        .expect("a repeat says where the record stands");
    assert!(
        repeat.position > 0 && repeat.position <= first.position,
        "a repeated back-fill records nothing: {repeat:?} after {first:?}"
    );
    let divorce = pb::BackfillDivorceRequest {
        metadata: metadata(),
        archive_reference: TYPED.into(),
        marriage_id: backfilled.marriage_id,
        certificate_number: text(),
        registry: region(PINGSHAN),
        registered_on: day(date!(2023 - 03 - 01)),
    };
    sent.note(&divorce);
    client
        .backfill_divorce(with_token(divorce, &staff))
        .await
        .expect("divorce back-filled");

    clock.set(date!(2026 - 01 - 05));
    let death = pb::RecordDeathRequest {
        metadata: metadata(),
        citizen: citizen(HUSBAND),
        name: text(),
        died_on: day(date!(2026 - 01 - 03)),
        county: region(PINGSHAN),
        source: pb::DeathSource::Hospital.into(),
        source_reference: text(),
    };
    sent.note(&death);
    let death_id = client
        .record_death(with_token(death, &agency))
        .await
        .expect("death recorded")
        .into_inner()
        .death_id;
    let funeral = pb::RecordFuneralServiceRequest {
        metadata: metadata(),
        death_id,
        funeral_home: text(),
        cremated_on: day(date!(2026 - 01 - 04)),
        burial: pb::BurialType::Tree.into(),
        buried_on: day(date!(2026 - 01 - 05)),
        basic_fee: Some(common::Money { fen: 180_000 }),
    };
    sent.note(&funeral);
    client
        .record_funeral_service(with_token(funeral, &staff))
        .await
        .expect("funeral recorded");
}

/// The place-names commands, every free-text field holding [`TYPED`]: an adjustment proposed,
/// reviewed and approved, another rejected; a road's name proposed, evaluated, commented on,
/// approved, published, signposted (the sign inspected, replaced, removed) and retired, another
/// rejected; a boundary recorded and inspected. An id given as the number is refused.
async fn place_names_commands(client: &mut PlaceNamesServiceClient<Channel>, sent: &mut Sent) {
    let caseworker = token(&[Role::Caseworker], &[PINGSHAN]);
    let approver = token(&[Role::Approver], &[PINGSHAN]);
    let date = |y, m, d| {
        Some(common::Date {
            year: y,
            month: m,
            day: d,
        })
    };
    let division = |name: String| placenames::DivisionRef {
        code: region(PINGSHAN),
        name,
    };
    let adjustment = placenames::ProposeAdjustmentRequest {
        metadata: metadata(),
        adjustment_id: "PS-2025-rename".into(),
        kind: placenames::AdjustmentKind::Rename.into(),
        before: vec![division("平山区".into())],
        after: vec![division(text())],
        justification: text(),
        proposed_on: date(2025, 1, 10),
        ..Default::default()
    };
    sent.note(&adjustment);
    client
        .propose_adjustment(with_token(adjustment, &caseworker))
        .await
        .expect("adjustment proposed");

    let id = "PS-road-1".to_owned();
    let propose = placenames::ProposePlaceNameRequest {
        metadata: metadata(),
        place_name_id: id.clone(),
        kind: placenames::PlaceKind::Road.into(),
        name: text(),
        pinyin: "Jian Lu".into(),
        region: region(PINGSHAN),
        meaning: text(),
        proposed_on: date(2025, 3, 1),
        replaces: String::new(),
    };
    sent.note(&propose);
    client
        .propose_place_name(with_token(propose, &caseworker))
        .await
        .expect("place name proposed");
    let evaluation = placenames::RecordPlaceNameEvaluationRequest {
        metadata: metadata(),
        place_name_id: id.clone(),
        favourable: true,
        summary: text(),
        evaluated_on: date(2025, 3, 20),
    };
    sent.note(&evaluation);
    client
        .record_place_name_evaluation(with_token(evaluation, &caseworker))
        .await
        .expect("evaluated");
    client
        .open_place_name_comment_period(with_token(
            placenames::OpenPlaceNameCommentPeriodRequest {
                metadata: metadata(),
                place_name_id: id.clone(),
                opened_on: date(2025, 4, 1),
                closes_on: date(2025, 4, 15),
            },
            &caseworker,
        ))
        .await
        .expect("comment period opened");
    let comment = placenames::RecordPlaceNameCommentRequest {
        metadata: metadata(),
        place_name_id: id.clone(),
        summary: text(),
        received_on: date(2025, 4, 3),
    };
    sent.note(&comment);
    client
        .record_place_name_comment(with_token(comment, &caseworker))
        .await
        .expect("comment recorded");
    client
        .close_place_name_comment_period(with_token(
            placenames::ClosePlaceNameCommentPeriodRequest {
                metadata: metadata(),
                place_name_id: id.clone(),
                closed_on: date(2025, 4, 15),
            },
            &caseworker,
        ))
        .await
        .expect("comment period closed");
    let approve = placenames::ApprovePlaceNameRequest {
        metadata: metadata(),
        place_name_id: id,
        approved_on: date(2025, 4, 20),
        approval_reference: text(),
    };
    sent.note(&approve);
    client
        .approve_place_name(with_token(approve, &approver))
        .await
        .expect("approved");

    // An id chosen by the filer keys a stream: one holding a citizen id number is refused.
    let refused = client
        .propose_adjustment(with_token(
            placenames::ProposeAdjustmentRequest {
                metadata: metadata(),
                adjustment_id: TYPED.into(),
                kind: placenames::AdjustmentKind::Rename.into(),
                before: vec![division("平山区".into())],
                after: vec![division("新平山区".into())],
                justification: "更名".into(),
                proposed_on: date(2025, 1, 10),
                ..Default::default()
            },
            &caseworker,
        ))
        .await
        .expect_err("a citizen id number is no id");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{refused:?}");

    for review in [
        placenames::ReviewKind::Expert,
        placenames::ReviewKind::Risk,
        placenames::ReviewKind::PublicOpinion,
    ] {
        command!(
            sent,
            client,
            record_adjustment_review,
            &caseworker,
            placenames::RecordAdjustmentReviewRequest {
                metadata: metadata(),
                adjustment_id: "PS-2025-rename".into(),
                review: review.into(),
                favourable: true,
                summary: text(),
                recorded_on: date(2025, 3, 1),
            }
        );
    }
    command!(
        sent,
        client,
        approve_adjustment,
        &approver,
        placenames::ApproveAdjustmentRequest {
            metadata: metadata(),
            adjustment_id: "PS-2025-rename".into(),
            approved_on: date(2025, 5, 20),
            approval_reference: text(),
        }
    );
    let xihu = |name: &str| placenames::DivisionRef {
        code: region(XIHU),
        name: name.to_owned(),
    };
    command!(
        sent,
        client,
        propose_adjustment,
        &token(&[Role::Caseworker], &[XIHU]),
        placenames::ProposeAdjustmentRequest {
            metadata: metadata(),
            adjustment_id: "XH-2025-rename".into(),
            kind: placenames::AdjustmentKind::Rename.into(),
            before: vec![xihu("溪湖区")],
            after: vec![xihu("新溪湖区")],
            justification: "更名".into(),
            proposed_on: date(2025, 1, 10),
            ..Default::default()
        }
    );
    command!(
        sent,
        client,
        reject_adjustment,
        &token(&[Role::Approver], &[XIHU]),
        placenames::RejectAdjustmentRequest {
            metadata: metadata(),
            adjustment_id: "XH-2025-rename".into(),
            rejected_on: date(2025, 2, 1),
            reason: text(),
        }
    );

    command!(
        sent,
        client,
        publish_place_name,
        &approver,
        placenames::PublishPlaceNameRequest {
            metadata: metadata(),
            place_name_id: "PS-road-1".into(),
            published_on: date(2025, 5, 1),
        }
    );
    command!(
        sent,
        client,
        install_sign,
        &caseworker,
        placenames::InstallSignRequest {
            metadata: metadata(),
            sign_id: "PS-sign-1".into(),
            place_name_id: "PS-road-1".into(),
            text: text(),
            location: text(),
            installed_on: date(2026, 2, 1),
        }
    );
    command!(
        sent,
        client,
        inspect_sign,
        &caseworker,
        placenames::InspectSignRequest {
            metadata: metadata(),
            sign_id: "PS-sign-1".into(),
            condition: placenames::SignCondition::Damaged.into(),
            note: text(),
            inspected_on: date(2026, 3, 1),
        }
    );
    command!(
        sent,
        client,
        replace_sign,
        &caseworker,
        placenames::ReplaceSignRequest {
            metadata: metadata(),
            sign_id: "PS-sign-1".into(),
            reason: text(),
            location: text(),
            replaced_on: date(2026, 4, 1),
        }
    );
    command!(
        sent,
        client,
        remove_sign,
        &caseworker,
        placenames::RemoveSignRequest {
            metadata: metadata(),
            sign_id: "PS-sign-1".into(),
            reason: text(),
            removed_on: date(2026, 5, 1),
        }
    );
    command!(
        sent,
        client,
        retire_place_name,
        &approver,
        placenames::RetirePlaceNameRequest {
            metadata: metadata(),
            place_name_id: "PS-road-1".into(),
            retired_on: date(2026, 6, 1),
            reason: text(),
        }
    );
    command!(
        sent,
        client,
        propose_place_name,
        &caseworker,
        placenames::ProposePlaceNameRequest {
            metadata: metadata(),
            place_name_id: "PS-road-2".into(),
            kind: placenames::PlaceKind::Road.into(),
            name: "河西路".into(),
            pinyin: "Hexi Lu".into(),
            region: region(PINGSHAN),
            meaning: "在河之西".into(),
            proposed_on: date(2025, 3, 1),
            replaces: String::new(),
        }
    );
    command!(
        sent,
        client,
        reject_place_name,
        &approver,
        placenames::RejectPlaceNameRequest {
            metadata: metadata(),
            place_name_id: "PS-road-2".into(),
            rejected_on: date(2025, 3, 5),
            reason: text(),
        }
    );

    let boundary = "210502-210503".to_owned();
    // A boundary between two counties is the city's.
    let caseworker = token(&[Role::Caseworker], &["210500000000"]);
    command!(
        sent,
        client,
        record_boundary,
        &caseworker,
        placenames::RecordBoundaryRequest {
            metadata: metadata(),
            boundary_id: boundary.clone(),
            between: vec![region(XIHU).expect("set"), region(PINGSHAN).expect("set"),],
            description: text(),
            recorded_on: date(2024, 1, 1),
        }
    );
    command!(
        sent,
        client,
        start_inspection_round,
        &caseworker,
        placenames::StartInspectionRoundRequest {
            metadata: metadata(),
            boundary_id: boundary.clone(),
            round: 1,
            started_on: date(2024, 3, 1),
        }
    );
    command!(
        sent,
        client,
        record_inspection_finding,
        &caseworker,
        placenames::RecordInspectionFindingRequest {
            metadata: metadata(),
            boundary_id: boundary.clone(),
            round: 1,
            kind: placenames::InspectionFindingKind::MarkerDamaged.into(),
            description: text(),
            recorded_on: date(2024, 4, 2),
        }
    );
    command!(
        sent,
        client,
        resolve_inspection_finding,
        &caseworker,
        placenames::ResolveInspectionFindingRequest {
            metadata: metadata(),
            boundary_id: boundary.clone(),
            round: 1,
            finding: 1,
            resolution: text(),
            resolved_on: date(2024, 5, 1),
        }
    );
    command!(
        sent,
        client,
        complete_inspection_round,
        &caseworker,
        placenames::CompleteInspectionRoundRequest {
            metadata: metadata(),
            boundary_id: boundary,
            round: 1,
            completed_on: date(2024, 10, 1),
            conclusion: text(),
        }
    );
}

/// A member of an assistance household, named with the typed number.
fn member(
    number: &str,
    relation: aid::Relation,
    work: aid::WorkCapacity,
    self_care: aid::SelfCareLevel,
) -> aid::HouseholdMember {
    aid::HouseholdMember {
        citizen: citizen(number),
        name: text(),
        relation: relation.into(),
        seriously_ill: false,
        severely_disabled: false,
        work_capacity: work.into(),
        self_care: self_care.into(),
    }
}

/// An application of `category` by a household of 南地街道 received at its window: `members`
/// (the first the applicant, every one of them an adult who signed an authorization of every
/// data class), each named with the typed number.
fn application(
    category: aid::AssistanceCategory,
    members: Vec<aid::HouseholdMember>,
) -> aid::SubmitApplicationRequest {
    let authorizations = members
        .iter()
        .map(|m| aid::Authorization {
            signed_by: m.citizen.clone(),
            signed_on: day(date!(2026 - 01 - 02)),
            data_classes: (1..=9).collect(),
            expires_on: day(date!(2027 - 01 - 01)),
        })
        .collect();
    aid::SubmitApplicationRequest {
        metadata: metadata(),
        category: category.into(),
        registered_division: region(NANDI),
        window: region(NANDI),
        area: aid::ResidenceArea::Urban.into(),
        applicant: members.first().and_then(|m| m.citizen.clone()),
        members,
        authorizations,
        payment_account: ACCOUNT.into(),
        ..Default::default()
    }
}

/// An adult able to work and to look after themselves.
fn adult(number: &str, relation: aid::Relation) -> aid::HouseholdMember {
    member(
        number,
        relation,
        aid::WorkCapacity::Full,
        aid::SelfCareLevel::Able,
    )
}

fn money(fen: i64) -> Option<common::Money> {
    Some(common::Money { fen })
}

/// `number`'s alert, raised by the data-sharing service: written to the stand-in's store, whose
/// relay publishes it; the assistance service records it as a referral.
async fn raise_alert(
    data_sharing: &Verifications,
    alert_id: &str,
    number: &str,
    raised_on: time::Date,
) {
    let alert = datasharing::HouseholdAlertRaised {
        alert_id: alert_id.to_owned(),
        kind: datasharing::AlertKind::IncomeLoss.into(),
        members: vec![citizen(number).expect("set")],
        division: region(NANDI),
        raised_on: day(raised_on),
        sources: vec![datasharing::SourceRecord {
            agency: "人社".into(),
            record_id: "RS-2026-0001".into(),
            as_of: day(raised_on),
            ..datasharing::SourceRecord::default()
        }],
    };
    data_sharing
        .raise_alert(alert)
        .await
        .expect("the alert is stored");
}

/// Submits `request` at 南地街道's window; answers the case id.
async fn submit(
    client: &mut AssistanceServiceClient<Channel>,
    sent: &mut Sent,
    request: aid::SubmitApplicationRequest,
) -> String {
    let caseworker = token(&[Role::Caseworker], &[NANDI]);
    command!(sent, client, submit_application, &caseworker, request).case_id
}

/// The social-assistance commands, every free-text field holding [`TYPED`] and every member
/// named with it: standards, a holiday calendar and a reserve fund recorded; a dibao household
/// verified, reviewed by the township, posted for notice, objected to (the objection looked
/// into), approved, paid (the bank's result file failing the line with a reason), reviewed,
/// suspended, resumed and ended; another rejected; an extreme-poverty application cared for at
/// home; temporary assistance paid at once and reported, another transferred to the county and
/// granted; heating assistance for the household in force; a referral acted on. The clock
/// starts on 2026-01-05, a Monday.
async fn assistance_commands(
    host: &TestHost,
    data_sharing: &Verifications,
    client: &mut AssistanceServiceClient<Channel>,
    clock: &FixedClock,
    sent: &mut Sent,
) {
    let caseworker = token(&[Role::Caseworker], &[NANDI]);
    let approver = token(&[Role::Approver], &[PINGSHAN]);
    let operator = token(&[Role::Operator], &[PROVINCE]);
    clock.set(date!(2026 - 01 - 05));

    command!(
        sent,
        client,
        load_holiday_calendar,
        &operator,
        aid::LoadHolidayCalendarRequest {
            metadata: metadata(),
            year: 2027,
            holidays: vec![date!(2027 - 01 - 01).into()],
            working_days: vec![],
            source: text(),
        }
    );
    let standard = |standard, effective_from| aid::RecordStandardRequest {
        metadata: metadata(),
        county: region(PINGSHAN),
        standard: Some(standard),
        effective_from: day(effective_from),
        decided_by: text(),
    };
    command!(
        sent,
        client,
        record_standard,
        &approver,
        standard(
            aid::record_standard_request::Standard::TemporaryAidLimit(aid::TemporaryAidLimit {
                township: None,
                amount: money(50_000),
            }),
            date!(2026 - 01 - 01),
        )
    );
    command!(
        sent,
        client,
        record_standard,
        &approver,
        standard(
            aid::record_standard_request::Standard::Heating(aid::HeatingAmounts {
                winter: 2025,
                dibao: money(60_000),
                extreme_poverty: money(60_000),
                low_income: money(30_000),
            }),
            date!(2026 - 01 - 01),
        )
    );
    command!(
        sent,
        client,
        replenish_reserve_fund,
        &approver,
        aid::ReplenishReserveFundRequest {
            metadata: metadata(),
            township: region(NANDI),
            amount: money(100_000),
            reference: text(),
        }
    );

    let mut pensioners = application(
        aid::AssistanceCategory::Dibao,
        vec![
            adult(PENSIONER, aid::Relation::Applicant),
            adult(PENSIONER_WIFE, aid::Relation::Spouse),
        ],
    );
    pensioners.incomes = vec![aid::DeclaredIncome {
        member: citizen(PENSIONER),
        kind: aid::IncomeKind::Pension.into(),
        monthly: money(40_000),
    }];
    pensioners.assets = vec![aid::DeclaredAsset {
        owner: citizen(PENSIONER_WIFE),
        kind: aid::AssetKind::Deposits.into(),
        value: money(500_000),
    }];
    let granted = submit(client, sent, pensioners).await;
    let rejected = submit(
        client,
        sent,
        application(
            aid::AssistanceCategory::Dibao,
            vec![adult(REJECTED, aid::Relation::Applicant)],
        ),
    )
    .await;
    let mut tekun = application(
        aid::AssistanceCategory::Tekun,
        vec![member(
            TEKUN,
            aid::Relation::Applicant,
            aid::WorkCapacity::None,
            aid::SelfCareLevel::FullyUnable,
        )],
    );
    tekun.care_arrangement = aid::CareArrangement::AtHome.into();
    tekun.care_at_home_reason = text();
    submit(client, sent, tekun).await;
    let accident = |number: &str, requested: i64| {
        let mut request = application(
            aid::AssistanceCategory::Temporary,
            vec![adult(number, aid::Relation::Applicant)],
        );
        request.hardship = aid::Hardship::Accident.into();
        request.requested_amount = money(requested);
        request
    };
    let paid_at_once = submit(client, sent, accident(ACCIDENT_PAID, 30_000)).await;
    let transferred = submit(client, sent, accident(ACCIDENT_TRANSFERRED, 80_000)).await;
    // The stand-in answers the verifications through the bus.
    host.settle().await;

    command!(
        sent,
        client,
        pay_temporary_aid_at_once,
        &caseworker,
        aid::PayTemporaryAidAtOnceRequest {
            metadata: metadata(),
            case_id: paid_at_once.clone(),
            amount: money(30_000),
        }
    );
    command!(
        sent,
        client,
        report_temporary_aid,
        &caseworker,
        aid::ReportTemporaryAidRequest {
            metadata: metadata(),
            case_id: paid_at_once,
        }
    );
    command!(
        sent,
        client,
        transfer_temporary_aid,
        &caseworker,
        aid::TransferTemporaryAidRequest {
            metadata: metadata(),
            case_id: transferred.clone(),
        }
    );
    let decide = |case_id: &str, decision: aid::Decision, reason: String, amount| {
        aid::DecideApplicationRequest {
            metadata: metadata(),
            case_id: case_id.to_owned(),
            decision: decision.into(),
            reason,
            amount,
        }
    };
    command!(
        sent,
        client,
        decide_application,
        &approver,
        decide(
            &transferred,
            aid::Decision::Approve,
            String::new(),
            money(80_000)
        )
    );

    for case_id in [&granted, &rejected] {
        command!(
            sent,
            client,
            record_township_review,
            &caseworker,
            aid::RecordTownshipReviewRequest {
                metadata: metadata(),
                case_id: case_id.clone(),
                recommends_approval: true,
                opinion: text(),
                visited_on: day(date!(2026 - 01 - 05)),
            }
        );
        command!(
            sent,
            client,
            post_notice,
            &caseworker,
            aid::PostNoticeRequest {
                metadata: metadata(),
                case_id: case_id.clone(),
            }
        );
    }
    let objection = command!(
        sent,
        client,
        record_objection,
        &caseworker,
        aid::RecordObjectionRequest {
            metadata: metadata(),
            case_id: granted.clone(),
            summary: text(),
        }
    )
    .objection;
    command!(
        sent,
        client,
        resolve_objection,
        &caseworker,
        aid::ResolveObjectionRequest {
            metadata: metadata(),
            case_id: granted.clone(),
            objection,
            upheld: false,
            finding: text(),
        }
    );

    // The notice is over: the county decides.
    clock.set(date!(2026 - 01 - 12));
    command!(
        sent,
        client,
        decide_application,
        &approver,
        decide(&granted, aid::Decision::Approve, String::new(), None)
    );
    command!(
        sent,
        client,
        decide_application,
        &approver,
        decide(&rejected, aid::Decision::Reject, text(), None)
    );
    let mut heating = application(
        aid::AssistanceCategory::Heating,
        vec![
            adult(PENSIONER, aid::Relation::Applicant),
            adult(PENSIONER_WIFE, aid::Relation::Spouse),
        ],
    );
    heating.winter = 2025;
    heating.related_case_id = granted.clone();
    submit(client, sent, heating).await;

    // February's payments: the pensioners' line fails at the bank, with the bank's reason.
    let cycle_id = command!(
        sent,
        client,
        generate_payment_cycle,
        &approver,
        aid::GeneratePaymentCycleRequest {
            metadata: metadata(),
            county: region(PINGSHAN),
            month: day(date!(2026 - 02 - 01)),
        }
    )
    .cycle_id;
    command!(
        sent,
        client,
        approve_payment_cycle,
        &approver,
        aid::ApprovePaymentCycleRequest {
            metadata: metadata(),
            cycle_id: cycle_id.clone(),
        }
    );
    let exported = command!(
        sent,
        client,
        export_payment_cycle,
        &approver,
        aid::ExportPaymentCycleRequest {
            metadata: metadata(),
            cycle_id: cycle_id.clone(),
        }
    );
    let file = String::from_utf8(exported.file).expect("UTF-8");
    let mut results = "line_no,case_id,amount_yuan,status,reason\r\n".to_owned();
    for row in file.split("\r\n").filter(|r| r.starts_with("LINE,")) {
        let fields: Vec<&str> = row.split(',').collect();
        assert!(
            fields[3..5] == [text().as_str(), ACCOUNT],
            "the payee and the account: {row}"
        );
        let _ = write!(
            results,
            "{},{},{},FAILED,{}\r\n",
            fields[1],
            fields[2],
            fields[5],
            text()
        );
    }
    assert!(results.contains(&granted), "{file}");
    let imported = command!(
        sent,
        client,
        import_payment_results,
        &approver,
        aid::ImportPaymentResultsRequest {
            metadata: metadata(),
            cycle_id,
            file: results.into_bytes(),
        }
    );
    assert!(
        imported.totals.is_some_and(|t| t.failed_count > 0),
        "the bank's failures were imported"
    );

    command!(
        sent,
        client,
        start_review,
        &approver,
        aid::StartReviewRequest {
            metadata: metadata(),
            case_id: granted.clone(),
            cause: aid::ReviewCause::Periodic.into(),
        }
    );
    host.settle().await;
    command!(
        sent,
        client,
        complete_review,
        &approver,
        aid::CompleteReviewRequest {
            metadata: metadata(),
            case_id: granted.clone(),
        }
    );
    command!(
        sent,
        client,
        suspend_case,
        &approver,
        aid::SuspendCaseRequest {
            metadata: metadata(),
            case_id: granted.clone(),
            reason: text(),
        }
    );
    command!(
        sent,
        client,
        resume_case,
        &approver,
        aid::ResumeCaseRequest {
            metadata: metadata(),
            case_id: granted.clone(),
        }
    );
    command!(
        sent,
        client,
        terminate_case,
        &approver,
        aid::TerminateCaseRequest {
            metadata: metadata(),
            case_id: granted,
            reason: text(),
        }
    );

    raise_alert(
        data_sharing,
        "BX-ALERT-2026-1",
        ALERTED,
        date!(2026 - 01 - 12),
    )
    .await;
    host.settle().await;
    command!(
        sent,
        client,
        act_on_referral,
        &caseworker,
        aid::ActOnReferralRequest {
            metadata: metadata(),
            alert_id: "BX-ALERT-2026-1".into(),
            outcome: aid::ReferralOutcome::VisitedNotEligible.into(),
            case_id: String::new(),
            note: text(),
        }
    );
}

/// Every elderly-care command, the typed number in every free-text field: an institution with
/// its licence, beds, grade, credit record and staff, a resident (the pensioner) admitted and
/// moved, a service point, an assessment, a subsidy standard, a visit plan with a visit, closed,
/// and a population figure.
async fn elder_care_commands(client: &mut ElderCareServiceClient<Channel>, sent: &mut Sent) {
    let staff = token(&[Role::Caseworker, Role::Approver], &[PINGSHAN]);
    let city = token(&[Role::Approver], &["210500000000"]);
    let on = day(date!(2025 - 05 - 01));
    let registered = command!(
        sent,
        client,
        register_institution,
        &staff,
        elder::RegisterInstitutionRequest {
            metadata: metadata(),
            name: text(),
            ownership: elder::Ownership::Private.into(),
            county: region(PINGSHAN),
            division: region(NANDI),
            registered_on: day(date!(2024 - 01 - 01)),
            general_beds: 10,
            nursing_beds: 10,
        }
    );
    let institution = registered.institution_id;
    command!(
        sent,
        client,
        record_licence,
        &staff,
        elder::RecordLicenceRequest {
            metadata: metadata(),
            institution_id: institution.clone(),
            kind: elder::LicenceKind::Filing.into(),
            number: text(),
            issued_on: day(date!(2024 - 01 - 02)),
        }
    );
    command!(
        sent,
        client,
        change_beds,
        &staff,
        elder::ChangeBedsRequest {
            metadata: metadata(),
            institution_id: institution.clone(),
            effective_on: day(date!(2024 - 06 - 01)),
            general: 8,
            nursing: 12,
            reason: text(),
        }
    );
    command!(
        sent,
        client,
        record_quality_grade,
        &staff,
        elder::RecordQualityGradeRequest {
            metadata: metadata(),
            institution_id: institution.clone(),
            grade: 3,
            graded_on: day(date!(2024 - 07 - 01)),
            assessor: text(),
        }
    );
    command!(
        sent,
        client,
        record_credit_entry,
        &staff,
        elder::RecordCreditEntryRequest {
            metadata: metadata(),
            institution_id: institution.clone(),
            kind: elder::CreditEntryKind::Violation.into(),
            recorded_on: day(date!(2024 - 08 - 01)),
            description: text(),
            source: text(),
        }
    );
    command!(
        sent,
        client,
        report_social_workers,
        &staff,
        elder::ReportSocialWorkersRequest {
            metadata: metadata(),
            institution_id: institution.clone(),
            social_workers: 2,
            effective_on: day(date!(2024 - 08 - 01)),
        }
    );
    command!(
        sent,
        client,
        admit_resident,
        &staff,
        elder::AdmitResidentRequest {
            metadata: metadata(),
            institution_id: institution.clone(),
            resident: citizen(TEKUN),
            bed_type: elder::BedType::General.into(),
            admitted_on: on,
        }
    );
    command!(
        sent,
        client,
        move_resident,
        &staff,
        elder::MoveResidentRequest {
            metadata: metadata(),
            institution_id: institution.clone(),
            resident: citizen(TEKUN),
            bed_type: elder::BedType::Nursing.into(),
            moved_on: on,
        }
    );
    let point = command!(
        sent,
        client,
        open_service_point,
        &staff,
        elder::OpenServicePointRequest {
            metadata: metadata(),
            name: text(),
            kind: elder::ServicePointKind::UrbanCentre.into(),
            county: region(PINGSHAN),
            division: region(NANDI),
            capacity: 30,
            opened_on: day(date!(2024 - 01 - 01)),
        }
    );
    command!(
        sent,
        client,
        change_service_point_capacity,
        &staff,
        elder::ChangeServicePointCapacityRequest {
            metadata: metadata(),
            service_point_id: point.service_point_id.clone(),
            capacity: 40,
            effective_on: on,
        }
    );
    command!(
        sent,
        client,
        close_service_point,
        &staff,
        elder::CloseServicePointRequest {
            metadata: metadata(),
            service_point_id: point.service_point_id,
            closed_on: on,
        }
    );
    command!(
        sent,
        client,
        record_assessment,
        &staff,
        elder::RecordAssessmentRequest {
            metadata: metadata(),
            person: citizen(PENSIONER),
            scores: Some(elder::AssessmentScores {
                self_care: vec![4; 8],
                basic_motor: vec![4, 4, 4, 3],
                mental_state: vec![4, 4, 4, 4, 4, 4, 1, 1, 2],
                perception: vec![2, 2, 4, 3, 4],
            }),
            adjustments: None,
            assessor: text(),
            assessed_on: on,
            division: region(NANDI),
            reassessment_due_on: None,
        }
    );
    command!(
        sent,
        client,
        record_subsidy_standard,
        &city,
        elder::RecordSubsidyStandardRequest {
            metadata: metadata(),
            city: region("210500000000"),
            effective_from: day(date!(2025 - 01 - 01)),
            advanced_age: vec![elder::AgeBand {
                from_age: 80,
                monthly: Some(common::Money { fen: 5_000 }),
            }],
            nursing: vec![],
            nursing_requires_low_income: false,
            service_low_income: Some(common::Money { fen: 10_000 }),
            decided_by: text(),
        }
    );
    command!(
        sent,
        client,
        open_visit_plan,
        &staff,
        elder::OpenVisitPlanRequest {
            metadata: metadata(),
            person: citizen(PENSIONER),
            difficulties: vec![elder::DifficultyKind::LivingAlone.into()],
            interval_days: 30,
            township: region(NANDI),
            opened_on: day(date!(2025 - 04 - 01)),
        }
    );
    command!(
        sent,
        client,
        record_visit,
        &staff,
        elder::RecordVisitRequest {
            metadata: metadata(),
            person: citizen(PENSIONER),
            visited_on: on,
            visitor: text(),
            findings: text(),
            follow_up: text(),
        }
    );
    command!(
        sent,
        client,
        close_visit_plan,
        &staff,
        elder::CloseVisitPlanRequest {
            metadata: metadata(),
            person: citizen(PENSIONER),
            closed_on: on,
            reason: text(),
        }
    );
    command!(
        sent,
        client,
        record_elderly_population,
        &staff,
        elder::RecordElderlyPopulationRequest {
            metadata: metadata(),
            county: region(PINGSHAN),
            persons: 90_000,
            as_of: day(date!(2024 - 12 - 31)),
            source: text(),
        }
    );
}

/// Every child-welfare command, the typed number in every free-text field: two versions of
/// the allowance standard (the second below the 6% growth, with its override reason); the
/// orphan identified (both parents dead) in an institution's care, the care arranged again, a
/// parent's fact revised; the girl adopted by the couple; a protection case of the orphan
/// reported by the teacher (named as people are) and taken through every step to its closure,
/// another reported by someone naming themselves with the number; the child director of
/// 南地社区 appointed (named as people are), replaced, trained, the post vacated, and 南地街道's
/// child supervisor appointed. Then the reads: the orphan's record, the case, and the reporter
/// as an auditor who says why.
async fn child_welfare_commands(client: &mut ChildWelfareServiceClient<Channel>, sent: &mut Sent) {
    let staff = token(&[Role::Caseworker], &[PINGSHAN]);
    let city = token(&[Role::Approver], &[BENXI_CITY]);
    let auditor = token(&[Role::Auditor], &[BENXI_CITY]);
    let standard = |effective_from| child::RecordAllowanceStandardRequest {
        metadata: metadata(),
        city: region(BENXI_CITY),
        effective_from: day(effective_from),
        centralized: Some(common::Money { fen: 150_000 }),
        family: Some(common::Money { fen: 120_000 }),
        decided_by: text(),
        override_reason: text(),
    };
    command!(
        sent,
        client,
        record_allowance_standard,
        &city,
        standard(date!(2025 - 01 - 01))
    );
    let frozen = command!(
        sent,
        client,
        record_allowance_standard,
        &city,
        standard(date!(2026 - 01 - 01))
    );
    assert!(frozen.below_growth_target, "{frozen:?}");

    let fact = |situation: child::ParentSituation, source: child::FactSourceKind| {
        Some(child::ParentFact {
            situation: situation.into(),
            source: Some(child::FactSource {
                kind: source.into(),
                reference: text(),
            }),
        })
    };
    let dead = || {
        fact(
            child::ParentSituation::Dead,
            child::FactSourceKind::CivilRegistrationDeath,
        )
    };
    command!(
        sent,
        client,
        identify_child,
        &staff,
        child::IdentifyChildRequest {
            metadata: metadata(),
            child: citizen(ORPHAN),
            division: region(NANDI),
            father: dead(),
            mother: dead(),
            identified_on: day(date!(2025 - 02 - 03)),
            care: child::ChildCareSetting::Centralized.into(),
            institution: text(),
        }
    );
    command!(
        sent,
        client,
        arrange_care,
        &staff,
        child::ArrangeCareRequest {
            metadata: metadata(),
            child: citizen(ORPHAN),
            care: child::ChildCareSetting::Centralized.into(),
            from: day(date!(2025 - 04 - 01)),
            institution: text(),
        }
    );
    command!(
        sent,
        client,
        revise_parent_fact,
        &staff,
        child::ReviseParentFactRequest {
            metadata: metadata(),
            child: citizen(ORPHAN),
            parent: child::ParentRole::Father.into(),
            fact: fact(
                child::ParentSituation::NotFound,
                child::FactSourceKind::PoliceRecord,
            ),
            revised_on: day(date!(2025 - 05 - 01)),
        }
    );
    let adopter = |number: &str| child::Adopter {
        adopter: citizen(number),
        children: 0,
        married: true,
        can_raise: true,
        no_disqualifying_illness: true,
        no_criminal_record: true,
    };
    command!(
        sent,
        client,
        register_adoption,
        &staff,
        child::RegisterAdoptionRequest {
            metadata: metadata(),
            child: citizen(ADOPTED),
            certificate: text(),
            registry: region(PINGSHAN),
            adopters: vec![adopter(ADOPTER), adopter(ADOPTER_WIFE)],
            child_category: child::AdoptionChildCategory::ParentsNotFound.into(),
            child_disabled: false,
            in_welfare_institution: true,
            child_consent: child::AdoptionChildConsent::Unspecified.into(),
            registered_on: day(date!(2025 - 06 - 02)),
            relationship: child::AdoptionRelationship::Unspecified.into(),
            overseas_chinese: false,
            birth_parents_consent: false,
        }
    );

    let report = |reporter: child::Reporter| child::FileReportRequest {
        metadata: metadata(),
        child: citizen(ORPHAN),
        division: region(NANDI),
        risk: child::RiskLevel::High.into(),
        reporter_kind: child::ReporterKind::Education.into(),
        reporter: Some(reporter),
        concern: text(),
        reported_on: day(date!(2025 - 09 - 01)),
    };
    let case_id = command!(
        sent,
        client,
        file_report,
        &staff,
        report(child::Reporter {
            name: REPORTER_NAME.into(),
            phone: REPORTER_PHONE.into(),
            organisation: text(),
            role: text(),
        })
    )
    .case_id;
    command!(
        sent,
        client,
        file_report,
        &staff,
        report(child::Reporter {
            name: text(),
            phone: text(),
            organisation: text(),
            role: text(),
        })
    );
    command!(
        sent,
        client,
        assign_caseworker,
        &staff,
        child::AssignCaseworkerRequest {
            metadata: metadata(),
            case_id: case_id.clone(),
            caseworker: text(),
            assigned_on: day(date!(2025 - 09 - 01)),
        }
    );
    command!(
        sent,
        client,
        record_emergency_handling,
        &staff,
        child::RecordEmergencyHandlingRequest {
            metadata: metadata(),
            case_id: case_id.clone(),
            measures: text(),
            handled_on: day(date!(2025 - 09 - 02)),
        }
    );
    command!(
        sent,
        client,
        record_case_assessment,
        &staff,
        child::RecordCaseAssessmentRequest {
            metadata: metadata(),
            case_id: case_id.clone(),
            findings: text(),
            needs: text(),
            assessed_on: day(date!(2025 - 09 - 05)),
        }
    );
    command!(
        sent,
        client,
        agree_assistance_plan,
        &staff,
        child::AgreeAssistancePlanRequest {
            metadata: metadata(),
            case_id: case_id.clone(),
            measures: text(),
            agreed_on: day(date!(2025 - 09 - 15)),
        }
    );
    command!(
        sent,
        client,
        record_guardianship_intervention,
        &staff,
        child::RecordGuardianshipInterventionRequest {
            metadata: metadata(),
            case_id: case_id.clone(),
            kind: child::InterventionKind::CourtRevocation.into(),
            court_referral: Some(child::CourtReferral {
                reference: text(),
                court: text(),
            }),
            intervened_on: day(date!(2025 - 10 - 08)),
        }
    );
    command!(
        sent,
        client,
        close_case,
        &staff,
        child::CloseCaseRequest {
            metadata: metadata(),
            case_id: case_id.clone(),
            reason: text(),
            closed_on: day(date!(2025 - 12 - 01)),
        }
    );

    let holder = |name: String, phone: String, number: &str| child::ChildPostHolder {
        name,
        phone,
        citizen: citizen(number),
    };
    command!(
        sent,
        client,
        appoint_post_holder,
        &staff,
        child::AppointPostHolderRequest {
            metadata: metadata(),
            division: region(NANDI_COMMUNITY),
            holder: Some(holder(
                DIRECTOR_NAME.into(),
                DIRECTOR_PHONE.into(),
                DIRECTOR
            )),
            appointed_on: day(date!(2025 - 03 - 01)),
        }
    );
    command!(
        sent,
        client,
        record_post_training,
        &staff,
        child::RecordPostTrainingRequest {
            metadata: metadata(),
            division: region(NANDI_COMMUNITY),
            course: text(),
            hours: 16,
            trained_on: day(date!(2025 - 04 - 10)),
        }
    );
    command!(
        sent,
        client,
        replace_post_holder,
        &staff,
        child::ReplacePostHolderRequest {
            metadata: metadata(),
            division: region(NANDI_COMMUNITY),
            holder: Some(holder(text(), text(), ADOPTER_WIFE)),
            replaced_on: day(date!(2025 - 08 - 01)),
            reason: text(),
        }
    );
    command!(
        sent,
        client,
        vacate_post,
        &staff,
        child::VacatePostRequest {
            metadata: metadata(),
            division: region(NANDI_COMMUNITY),
            vacated_on: day(date!(2025 - 11 - 01)),
            reason: text(),
        }
    );
    command!(
        sent,
        client,
        appoint_post_holder,
        &staff,
        child::AppointPostHolderRequest {
            metadata: metadata(),
            division: region(NANDI),
            holder: Some(holder(
                DIRECTOR_NAME.into(),
                DIRECTOR_PHONE.into(),
                DIRECTOR
            )),
            appointed_on: day(date!(2025 - 03 - 01)),
        }
    );

    let record = client
        .get_child(with_token(
            child::GetChildRequest {
                child: citizen(ORPHAN),
                read: None,
            },
            &staff,
        ))
        .await
        .expect("the orphan's record is read")
        .into_inner();
    assert!(record.covered, "{record:?}");
    client
        .get_case(with_token(
            child::GetCaseRequest {
                case_id: case_id.clone(),
                read: None,
            },
            &staff,
        ))
        .await
        .expect("the case is read");
    let mut ask = with_token(child::GetCaseReporterRequest { case_id }, &auditor);
    ask.metadata_mut()
        .insert(PURPOSE_HEADER, "court-order-2026-3".parse().expect("ascii"));
    let reporter = client
        .get_case_reporter(ask)
        .await
        .expect("the auditor reads the reporter")
        .into_inner()
        .reporter
        .expect("a reporter");
    assert_eq!(
        (reporter.name.as_str(), reporter.phone.as_str()),
        (REPORTER_NAME, REPORTER_PHONE)
    );
}

/// Calls every RPC of [`SERVICES`] once with every string field set to [`TYPED`], as a caller
/// with every role in the whole province; whatever the answer (most are refusals).
async fn every_rpc_with_the_number_everywhere(host: &TestHost, descriptors: &Descriptors) {
    let all_roles = token(&Role::ALL, &[PROVINCE]);
    for (path, input) in &descriptors.rpcs {
        let service = if path.contains("PlaceNames") {
            "placenames"
        } else if path.contains("Assistance") {
            "assistance"
        } else if path.contains("ElderCare") {
            "eldercare"
        } else if path.contains("ChildWelfare") {
            "childwelfare"
        } else {
            "civilregistry"
        };
        let mut grpc = tonic::client::Grpc::new(host.channel(service).await);
        grpc.ready().await.expect("the channel is ready");
        let body = Bytes::from(descriptors.encode_all_strings(input, TYPED, 0));
        let _ = grpc
            .unary::<_, Bytes, _>(
                with_token(body, &all_roles),
                path.parse().expect("a valid path"),
                RawCodec,
            )
            .await;
    }
}

/// The data-sharing stand-in, the pensioner's verified pension 400.00 元 a month.
fn answering_the_pension() -> DataSharingStandIn {
    let stand_in = DataSharingStandIn::default();
    stand_in.answers.income(PENSIONER, 40_000);
    stand_in
}

/// Every stream id in `service`'s store.
async fn stream_ids(host: &TestHost, service: &str) -> BTreeSet<String> {
    let store = minzheng_eventstore::connect(host.database_url(service), Upcasters::default())
        .await
        .expect("the store opens");
    let mut streams = BTreeSet::new();
    let mut after = Cursor::START;
    loop {
        let batch = store.read_all(after, 1_000).await.expect("readable");
        let Some(last) = batch.events.last() else {
            return streams;
        };
        after = last.cursor;
        streams.extend(batch.events.iter().map(|e| e.stream.to_string()));
    }
}

#[tokio::test]
async fn no_personal_data_in_stream_keys_subjects_headers_logs_or_spans() {
    let captured = Captured::default();
    // Everything this project logs, at every level; other crates' logs down to DEBUG. Their
    // TRACE output dumps protocol frames (async-nats prints whole messages, payloads included):
    // never a level to run a deployment at.
    let levels = Targets::new()
        .with_default(LevelFilter::DEBUG)
        .with_target("minzheng", LevelFilter::TRACE);
    tracing::subscriber::set_global_default(
        Registry::default().with(captured.clone().with_filter(levels)),
    )
    .expect("the only subscriber of this test binary");
    let descriptors = Descriptors::load();

    let clock = FixedClock::new(date!(2025 - 06 - 01));
    let data_sharing = answering_the_pension();
    let host = TestHost::distributed()
        .service(minzheng_placenames::Module::default())
        .service(
            minzheng_civilregistry::Module::new(SecretString::from(PSEUDONYM_KEY))
                .with_clock(Arc::new(clock.clone())),
        )
        // After both: it follows the divisions and the civil registry's deaths and marriages.
        .service(
            minzheng_assistance::Module::new(SecretString::from(PSEUDONYM_KEY))
                .with_clock(Arc::new(clock.clone()))
                .with_seed(minzheng_assistance::module::Seed::benxi()),
        )
        // The data-sharing service's stand-in answers the verification requests through the bus,
        // with the pensioner's pension.
        .service(data_sharing.clone())
        // Last: it follows the divisions, the deaths and the assistance cases.
        .service(
            minzheng_eldercare::Module::new(SecretString::from(PSEUDONYM_KEY))
                .with_clock(Arc::new(clock.clone())),
        )
        // It follows the divisions, the deaths and the data-sharing alerts.
        .service(
            minzheng_childwelfare::Module::new(
                SecretString::from(PSEUDONYM_KEY),
                SecretString::from(REPORTER_KEY),
            )
            .with_clock(Arc::new(clock.clone())),
        )
        .start()
        .await;
    let mut messages = host
        .nats()
        .subscribe(format!("{}.>", host.bus_prefix()))
        .await
        .expect("subscribed to the hosts' bus");

    let mut place_names = PlaceNamesServiceClient::new(host.channel("placenames").await);
    let imported = place_names
        .import_divisions(with_token(
            placenames::ImportDivisionsRequest {
                metadata: metadata(),
                csv: BENXI.csv.as_bytes().to_vec(),
                valid_from: Some(BENXI.valid_from.into()),
            },
            &token(&[Role::Operator], &[PROVINCE]),
        ))
        .await
        .expect("Benxi's divisions imported")
        .into_inner();
    // The place-names directory has the imported divisions before the commands check them.
    place_names
        .get_division(placenames::GetDivisionRequest {
            code: region(PINGSHAN),
            as_of: None,
            read: Some(common::ReadOptions {
                min_position: imported.position,
            }),
        })
        .await
        .expect("平山区 is recorded");
    host.settle().await;

    let mut sent = Sent::default();
    place_names_commands(&mut place_names, &mut sent).await;
    let mut civil_registry = CivilRegistryServiceClient::new(host.channel("civilregistry").await);
    civil_registry_commands(&mut civil_registry, &clock, &mut sent).await;
    let mut assistance = AssistanceServiceClient::new(host.channel("assistance").await);
    assistance_commands(
        &host,
        &data_sharing.answers,
        &mut assistance,
        &clock,
        &mut sent,
    )
    .await;
    let mut elder_care = ElderCareServiceClient::new(host.channel("eldercare").await);
    elder_care_commands(&mut elder_care, &mut sent).await;
    let mut child_welfare = ChildWelfareServiceClient::new(host.channel("childwelfare").await);
    child_welfare_commands(&mut child_welfare, &mut sent).await;
    every_rpc_with_the_number_everywhere(&host, &descriptors).await;
    host.settle().await;

    // Every free-text field of every command was sent with the number.
    let mut typed = BTreeSet::new();
    for (message, bytes) in &sent.0 {
        descriptors.fields_containing(message, bytes, TYPED, &mut typed);
    }
    let free_text = descriptors.free_text_fields();
    let missing: Vec<_> = free_text.iter().filter(|f| !typed.contains(*f)).collect();
    assert!(
        missing.is_empty(),
        "free-text fields this test does not send the number in: {missing:#?}"
    );
    // What the bus carried: subjects and every header value.
    let mut on_the_bus = Vec::new();
    while let Ok(Some(message)) =
        tokio::time::timeout(Duration::from_millis(500), messages.next()).await
    {
        on_the_bus.push(format!("subject {}", message.subject));
        for (name, values) in message.headers.iter().flat_map(|h| h.iter()) {
            for value in values {
                on_the_bus.push(format!("header {name}: {value}"));
            }
        }
    }
    assert!(
        on_the_bus
            .iter()
            .any(|m| m.contains(".civilregistry.marriage.backfilled")),
        "the back-filled marriage was published: {on_the_bus:#?}"
    );
    assert!(
        on_the_bus
            .iter()
            .any(|m| m.contains(".assistance.case.application_approved")),
        "the approved application was published: {on_the_bus:#?}"
    );
    assert!(
        on_the_bus
            .iter()
            .any(|m| m.contains(".assistance.referral.acted_on")),
        "the referral acted on was published: {on_the_bus:#?}"
    );
    assert!(
        on_the_bus
            .iter()
            .any(|m| m.contains(".childwelfare.protection_case.")),
        "the protection cases were published: {on_the_bus:#?}"
    );
    let mut streams = stream_ids(&host, "civilregistry").await;
    streams.extend(stream_ids(&host, "placenames").await);
    assert!(
        streams.iter().any(|s| s.starts_with("marriage-A-")),
        "the back-filled marriage was stored: {streams:#?}"
    );
    let assistance_streams = stream_ids(&host, "assistance").await;
    assert!(
        assistance_streams
            .iter()
            .any(|s| s.starts_with("case-210502-DB-2026-")),
        "the dibao cases were stored: {assistance_streams:#?}"
    );
    streams.extend(assistance_streams);
    streams.extend(stream_ids(&host, "datasharing").await);
    let elder_streams = stream_ids(&host, "eldercare").await;
    assert!(
        elder_streams.iter().any(|s| s.starts_with("elder-")),
        "the elderly persons were stored: {elder_streams:#?}"
    );
    streams.extend(elder_streams);
    let child_streams = stream_ids(&host, "childwelfare").await;
    assert!(
        child_streams.iter().any(|s| s.starts_with("child-"))
            && child_streams
                .iter()
                .any(|s| s.starts_with("protection_case-")),
        "the children and the cases were stored: {child_streams:#?}"
    );
    streams.extend(child_streams);
    let logs = captured.lines();
    host.shutdown().await;

    let mut leaks = Vec::new();
    for number in PERSONAL {
        let found = |what: &str, lines: &mut dyn Iterator<Item = &String>| {
            lines
                .filter(|l| l.contains(number))
                .map(|l| format!("{what}: {l}"))
                .collect::<Vec<_>>()
        };
        leaks.extend(found("stream id", &mut streams.iter()));
        leaks.extend(found("bus", &mut on_the_bus.iter()));
        leaks.extend(found("log or span", &mut logs.iter()));
    }
    assert!(leaks.is_empty(), "personal data leaked: {leaks:#?}");
}
