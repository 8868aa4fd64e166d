//! The application over a real (SQLite) event store with a clock the test moves: the flows
//! whose rules span streams or days, and history recorded under older rules. The gRPC edge and PostgreSQL + NATS come in `tests/api.rs`.

use std::sync::Arc;

use minzheng_civilregistry::{
    app::{CivilRegistry, registrations::MarriageRegistered},
    death::{self, Source},
    divorce::{self, DivorceApplication},
    ids::{ApplicationId, AppointmentId, ArchiveReference, MarriageId, day_key},
    marriage,
    person::Status,
    registry_day::{self, AppointmentState, RegistryDay, Service, SlotId},
    verification::{Kind, Outcome, Party, Verification},
};
use minzheng_eventstore::{
    AppendRequest, ExpectedVersion, Metadata, NewEvent, SharedStore, StreamId, Upcasters,
    sqlite::SqliteStore,
};
use minzheng_kit::{
    Error,
    aggregate::{Aggregate, CommandContext, EventCodec},
    clock::FixedClock,
    pseudonym::Pseudonymizer,
};
use minzheng_testkit::TestSqlite;
use minzheng_types::{BoundedText, CitizenId, RegionCode, add_days};
use secrecy::SecretString;
use time::{Date, macros::date};

const PINGSHAN: &str = "210502000000";
/// A man born 1990-05-01 and a woman born 1995-03-08 (valid check characters).
const HUSBAND: &str = "210502199005010014";
const WIFE: &str = "210502199503080023";

fn citizen(number: &str) -> CitizenId {
    CitizenId::parse(number).expect("test ids are valid")
}

fn text(s: &str) -> BoundedText {
    BoundedText::parse(s, 200).expect("valid text")
}

fn party(number: &str, name: &str) -> Party {
    Party {
        citizen: citizen(number),
        name: text(name),
    }
}

fn checks(numbers: &[&str]) -> Vec<Verification> {
    numbers
        .iter()
        .flat_map(|n| {
            Kind::ALL.into_iter().map(move |kind| Verification {
                party: citizen(n),
                kind,
                method: text("本溪市婚姻登记系统"),
                outcome: Outcome::Passed,
                score_permille: 0,
            })
        })
        .collect()
}

fn key(k: &str) -> CommandContext {
    CommandContext::new().with_idempotency_key(k)
}

async fn open(db: &TestSqlite, clock: &FixedClock) -> CivilRegistry {
    let store: SharedStore = Arc::new(
        SqliteStore::connect(&db.url, Upcasters::new())
            .await
            .expect("store opens"),
    );
    let pseudonyms = Pseudonymizer::new(&SecretString::from(
        "a test key of thirty-two bytes!!".to_owned(),
    ))
    .expect("key long enough");
    let app = CivilRegistry::new(store, pseudonyms, Arc::new(clock.clone()));
    app.view().catch_up().await.expect("view builds");
    app
}

/// Publishes a slot for `day`, books `service` for `parties` and checks them in on the day.
async fn attend(
    app: &CivilRegistry,
    clock: &FixedClock,
    day: Date,
    service: Service,
    parties: &[&str],
) -> AppointmentId {
    let registry = RegionCode::parse(PINGSHAN).expect("valid");
    let slot = SlotId::parse("0900").expect("valid");
    let tag = format!("{day}-{}", service.as_str());
    app.publish_slots(
        registry,
        day,
        vec![(slot, 10)],
        &key(&format!("slots-{tag}")),
    )
    .await
    .expect("slots published");
    let booked = app
        .book(
            registry,
            day,
            slot,
            service,
            parties.iter().map(|p| citizen(p)).collect(),
            &key(&format!("book-{tag}")),
        )
        .await
        .expect("booked");
    clock.set(day);
    app.check_in(&booked.appointment, &key(&format!("in-{tag}")))
        .await
        .expect("checked in");
    booked.appointment
}

/// Marries HUSBAND and WIFE on 2025-06-10.
async fn wed(app: &CivilRegistry, clock: &FixedClock) -> (AppointmentId, MarriageRegistered) {
    let wedding = attend(
        app,
        clock,
        date!(2025 - 06 - 10),
        Service::Marriage,
        &[HUSBAND, WIFE],
    )
    .await;
    let married = app
        .register_marriage(
            &wedding,
            [party(HUSBAND, "张三"), party(WIFE, "李四")],
            checks(&[HUSBAND, WIFE]),
            &key("marry"),
        )
        .await
        .expect("registered");
    (wedding, married)
}

/// Books a divorce-application appointment for HUSBAND and WIFE on `on`, checks them in and
/// files their application for `marriage`.
async fn file_divorce(
    app: &CivilRegistry,
    clock: &FixedClock,
    on: Date,
    marriage: &minzheng_civilregistry::ids::MarriageId,
    idempotency_key: &str,
) -> minzheng_civilregistry::divorce::Application {
    let filing = attend(
        app,
        clock,
        on,
        Service::DivorceApplication,
        &[HUSBAND, WIFE],
    )
    .await;
    let (application, _) = app
        .apply_for_divorce(
            &filing,
            marriage,
            checks(&[HUSBAND, WIFE]),
            &key(idempotency_key),
        )
        .await
        .expect("application received");
    application
}

fn rule(error: Error) -> String {
    match error {
        Error::FailedPrecondition { rule, .. } => rule,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_divorce_application_lapses_on_day_61_even_when_the_service_slept_through_it() {
    let db = TestSqlite::create();
    let clock = FixedClock::new(date!(2025 - 06 - 01));
    let app = open(&db, &clock).await;

    let (wedding, married) = wed(&app, &clock).await;
    assert_eq!(married.certificate_number, format!("J{wedding}"));

    // A second registration of either party is bigamy.
    let day = date!(2025 - 07 - 01);
    let again = attend(
        &app,
        &clock,
        day,
        Service::Marriage,
        &[HUSBAND, "210502199601010029"],
    )
    .await;
    let refused = app
        .register_marriage(
            &again,
            [party(HUSBAND, "张三"), party("210502199601010029", "王五")],
            checks(&[HUSBAND, "210502199601010029"]),
            &key("bigamy"),
        )
        .await
        .expect_err("bigamy refused");
    assert_eq!(rule(refused), "already_married");

    let applied_on = date!(2025 - 08 - 01);
    let application = file_divorce(&app, &clock, applied_on, &married.marriage, "apply").await;
    assert_eq!(
        application.last_day_to_register,
        add_days(applied_on, 60).expect("in range")
    );

    // The service is down from day 1 to day 61; it starts again on day 61.
    drop(app);
    clock.set(add_days(applied_on, 61).expect("in range"));
    let app = open(&db, &clock).await;
    let summary = app.sweep().await.expect("sweep runs");
    assert_eq!(summary.lapsed_applications, 1);
    let lapsed = app
        .divorce_application(&application.id)
        .await
        .expect("application kept");
    assert!(
        matches!(lapsed.state, minzheng_civilregistry::divorce::State::Lapsed { on } if on == add_days(applied_on, 61).expect("in range")),
        "{:?}",
        lapsed.state
    );
    // The parties are still married, and a second sweep does nothing.
    let status = app
        .status_after_catching_up(&citizen(WIFE), clock_today(&clock))
        .await
        .expect("status");
    assert_eq!(status.period.map(|p| p.status), Some(Status::Married));
    assert_eq!(app.sweep().await.expect("sweep").lapsed_applications, 0);
}

#[tokio::test]
async fn a_death_widows_the_spouse_and_a_full_slot_and_a_no_show_are_recorded() {
    let db = TestSqlite::create();
    let clock = FixedClock::new(date!(2025 - 06 - 01));
    let app = open(&db, &clock).await;
    let (wedding, married) = wed(&app, &clock).await;
    // A retry of the same registration answers the same, records nothing, and says where the
    // marriage stands (the first answer's promise: read your write).
    let retry = app
        .register_marriage(
            &wedding,
            [party(HUSBAND, "张三"), party(WIFE, "李四")],
            checks(&[HUSBAND, WIFE]),
            &key("marry"),
        )
        .await
        .expect("idempotent");
    assert_eq!(retry.marriage, married.marriage);
    assert_replayed(retry.committed);

    clock.set(date!(2026 - 01 - 05));
    let (death_id, _) = app
        .record_death(
            death::Record {
                death: app.pseudonym(&citizen(HUSBAND)),
                citizen: citizen(HUSBAND),
                name: text("张三"),
                died_on: date!(2026 - 01 - 03),
                county: RegionCode::parse(PINGSHAN).expect("valid"),
                source: Source::Hospital,
                source_reference: Some(text("BX-2026-0001")),
                recorded_on: date!(2026 - 01 - 05),
            },
            &key("death"),
        )
        .await
        .expect("death recorded");
    assert_eq!(death_id, app.pseudonym(&citizen(HUSBAND)));

    let on_the_day = app
        .status_after_catching_up(&citizen(WIFE), date!(2026 - 01 - 03))
        .await
        .expect("status");
    assert_eq!(on_the_day.period.map(|p| p.status), Some(Status::Married));
    let after = app
        .status_after_catching_up(&citizen(WIFE), date!(2026 - 01 - 04))
        .await
        .expect("status");
    let period = after.period.expect("a status");
    assert_eq!(period.status, Status::Widowed);
    assert_eq!(period.record, death_id.to_string());
    assert_eq!(
        after.certificate_number,
        Some(married.certificate_number.clone())
    );
    let deceased = app
        .status_after_catching_up(&citizen(HUSBAND), date!(2026 - 01 - 04))
        .await
        .expect("status");
    assert_eq!(deceased.deceased_on, Some(date!(2026 - 01 - 03)));
    let record = app.marriage(&married.marriage).await.expect("kept");
    assert_eq!(record.dissolved.map(|d| d.on), Some(date!(2026 - 01 - 04)));

    // A no-show is recorded for an appointment nobody came to.
    let registry = RegionCode::parse(PINGSHAN).expect("valid");
    let slot = SlotId::parse("1000").expect("valid");
    let day = date!(2026 - 02 - 02);
    app.publish_slots(registry, day, vec![(slot, 1)], &key("slots-feb"))
        .await
        .expect("published");
    let booked = app
        .book(
            registry,
            day,
            slot,
            Service::CertificateReissue,
            vec![citizen(WIFE)],
            &key("book-feb"),
        )
        .await
        .expect("booked");
    let full = app
        .book(
            registry,
            day,
            slot,
            Service::CertificateReissue,
            vec![citizen("210502199601010029")],
            &key("book-feb-2"),
        )
        .await
        .expect_err("the slot is full");
    assert_eq!(rule(full), "slot_fully_booked");
    clock.set(date!(2026 - 02 - 03));
    assert_eq!(app.sweep().await.expect("sweep").days_closed, 1);
    let appointment = app.appointment(&booked.appointment).await.expect("kept");
    assert_eq!(appointment.state, AppointmentState::NoShow);
}

#[tokio::test]
async fn a_withdrawal_on_day_29_ends_an_application_and_a_divorce_on_day_31_divorces_both() {
    let db = TestSqlite::create();
    let clock = FixedClock::new(date!(2025 - 06 - 01));
    let app = open(&db, &clock).await;
    let (_, married) = wed(&app, &clock).await;

    // A lost certificate is reissued to the wife; her status names the new number.
    let lost = date!(2025 - 07 - 15);
    let reissue = attend(&app, &clock, lost, Service::CertificateReissue, &[WIFE]).await;
    let (number, _) = app
        .reissue_certificate(
            &married.marriage,
            &reissue,
            checks(&[WIFE]),
            &key("reissue"),
        )
        .await
        .expect("reissued");
    assert_eq!(number, format!("J{reissue}-B"));
    let status = app
        .status_after_catching_up(&citizen(HUSBAND), lost)
        .await
        .expect("status");
    assert_eq!(status.certificate_number, Some(number));

    let first = date!(2025 - 08 - 01);
    let application = file_divorce(&app, &clock, first, &married.marriage, "apply-1").await;
    clock.set(add_days(first, 29).expect("in range"));
    app.withdraw_divorce(&application.id, citizen(WIFE), &key("withdraw"))
        .await
        .expect("withdrawn on day 29");

    let second = date!(2025 - 10 - 01);
    let filing = attend(
        &app,
        &clock,
        second,
        Service::DivorceApplication,
        &[WIFE, HUSBAND],
    )
    .await;
    let (application, _) = app
        .apply_for_divorce(
            &filing,
            &married.marriage,
            checks(&[HUSBAND, WIFE]),
            &key("apply-2"),
        )
        .await
        .expect("received again");
    let too_early = attend(
        &app,
        &clock,
        add_days(second, 30).expect("in range"),
        Service::DivorceRegistration,
        &[HUSBAND, WIFE],
    )
    .await;
    let refused = app
        .register_divorce(
            &application.id,
            &too_early,
            checks(&[HUSBAND, WIFE]),
            &key("register-30"),
        )
        .await
        .expect_err("still cooling off on day 30");
    assert_eq!(rule(refused), "cooling_off_not_over");

    let day_31 = add_days(second, 31).expect("in range");
    let coming_back = attend(
        &app,
        &clock,
        day_31,
        Service::DivorceRegistration,
        &[HUSBAND, WIFE],
    )
    .await;
    let (certificate, committed) = app
        .register_divorce(
            &application.id,
            &coming_back,
            checks(&[HUSBAND, WIFE]),
            &key("register-31"),
        )
        .await
        .expect("registered on day 31");
    assert_eq!(certificate, format!("L{coming_back}"));
    assert!(committed.is_some());
    for spouse in [HUSBAND, WIFE] {
        let status = app
            .status_after_catching_up(&citizen(spouse), day_31)
            .await
            .expect("status");
        let period = status.period.expect("a status");
        assert_eq!(period.status, Status::Divorced);
        assert_eq!(
            status.certificate_number.as_deref(),
            Some(certificate.as_str())
        );
    }
    let record = app.marriage(&married.marriage).await.expect("kept");
    assert_eq!(record.dissolved.map(|d| d.on), Some(day_31));
    // Repeating the registration answers the same certificate, records nothing, and says where
    // the record stands so the caller can read its write.
    let (again, recorded) = app
        .register_divorce(
            &application.id,
            &coming_back,
            checks(&[HUSBAND, WIFE]),
            &key("register-31"),
        )
        .await
        .expect("idempotent");
    assert_eq!(again, certificate);
    assert_replayed(recorded);
}

/// What the service's view follower does in a running service: catch the overview up (it holds
/// the certificate numbers a status names), then ask.
trait CaughtUp {
    async fn status_after_catching_up(
        &self,
        citizen: &CitizenId,
        day: Date,
    ) -> Result<minzheng_civilregistry::app::registrations::MaritalStatus, Error>;
}

impl CaughtUp for CivilRegistry {
    async fn status_after_catching_up(
        &self,
        citizen: &CitizenId,
        day: Date,
    ) -> Result<minzheng_civilregistry::app::registrations::MaritalStatus, Error> {
        self.view().catch_up().await?;
        self.marital_status(citizen, day).await
    }
}

fn clock_today(clock: &FixedClock) -> Date {
    use minzheng_kit::clock::Clock as _;
    clock.today()
}

#[tokio::test]
async fn a_reschedule_to_another_day_moves_the_appointment_in_one_step() {
    let db = TestSqlite::create();
    let clock = FixedClock::new(date!(2025 - 06 - 01));
    let app = open(&db, &clock).await;
    let registry = RegionCode::parse(PINGSHAN).expect("valid");
    let slot = SlotId::parse("0900").expect("valid");
    let (first, second) = (date!(2025 - 06 - 10), date!(2025 - 06 - 12));
    for (day, capacity) in [(first, 5), (second, 1)] {
        app.publish_slots(
            registry,
            day,
            vec![(slot, capacity)],
            &key(&format!("slots-{day}")),
        )
        .await
        .expect("published");
    }
    let couple = || vec![citizen(HUSBAND), citizen(WIFE)];
    let booked = app
        .book(
            registry,
            first,
            slot,
            Service::Marriage,
            couple(),
            &key("book"),
        )
        .await
        .expect("booked");
    let moved = app
        .reschedule(&booked.appointment, second, slot, &key("move"))
        .await
        .expect("rescheduled");
    assert_eq!(moved.appointment.day(), second);
    assert!(moved.committed.is_some());
    let old = app.appointment(&booked.appointment).await.expect("kept");
    assert_eq!(old.state, AppointmentState::Cancelled);
    assert_eq!(old.rescheduled_to, Some(moved.appointment));
    let new = app.appointment(&moved.appointment).await.expect("booked");
    assert_eq!(new.rescheduled_from, Some(booked.appointment));
    assert_eq!(new.parties, couple());
    // A repeat answers the same and records nothing.
    let again = app
        .reschedule(&booked.appointment, second, slot, &key("move"))
        .await
        .expect("idempotent");
    assert_eq!(again.appointment, moved.appointment);
    assert_replayed(again.committed);
    // The second day's only place is taken: another move there is refused, and nothing moves.
    let other = app
        .book(
            registry,
            first,
            slot,
            Service::CertificateReissue,
            vec![citizen("210502199601010029")],
            &key("book-other"),
        )
        .await
        .expect("booked");
    let refused = app
        .reschedule(&other.appointment, second, slot, &key("move-other"))
        .await
        .expect_err("full");
    assert_eq!(rule(refused), "slot_fully_booked");
    assert_eq!(
        app.appointment(&other.appointment)
            .await
            .expect("kept")
            .state,
        AppointmentState::Booked
    );
}

/// A woman born 1949-12-31 and a man born 1950-01-01 (valid check characters).
const OLD_WOMAN: &str = "11010519491231002X";
const OLD_MAN: &str = "110105195001010012";

#[tokio::test]
async fn a_divorce_from_the_archive_ends_an_archived_marriage_so_a_party_may_marry_again() {
    let db = TestSqlite::create();
    let clock = FixedClock::new(date!(2025 - 06 - 01));
    let app = open(&db, &clock).await;
    let registry = RegionCode::parse(PINGSHAN).expect("valid");
    let (marriage, _) = app
        .backfill_marriage(
            marriage::Backfill {
                // The application keys the record by the reference's pseudonym, whatever this says.
                id: MarriageId::parse("A-given-by-the-caller").expect("valid"),
                archive: ArchiveReference::parse("BX-1998-0123").expect("valid"),
                certificate_number: text("本结字第0123号"),
                registry,
                on: date!(1998 - 05 - 01),
                parties: [party(OLD_MAN, "李建国"), party(OLD_WOMAN, "王秀英")],
            },
            &key("backfill-marriage"),
        )
        .await
        .expect("marriage back-filled");
    let archive_key = |reference: &str| {
        app.archive_pseudonym(&ArchiveReference::parse(reference).expect("valid"))
    };
    assert_eq!(
        marriage,
        MarriageId::backfilled(&archive_key("BX-1998-0123"))
    );

    let backfill = |reference: &str, on: Date, idempotency: &str| {
        let app = &app;
        let marriage = marriage.clone();
        let reference = ArchiveReference::parse(reference).expect("valid");
        let idempotency = key(idempotency);
        async move {
            app.backfill_divorce(
                reference,
                &marriage,
                registry,
                text("本离字第0045号"),
                on,
                &idempotency,
            )
            .await
        }
    };
    // Not before the marriage was registered.
    let early = backfill("BX-1997-0001", date!(1997 - 12 - 31), "early")
        .await
        .expect_err("before the marriage");
    assert_eq!(rule(early), "before_registration");

    let divorced_on = date!(2005 - 03 - 01);
    let (application, committed) = backfill("BX-2005-0045", divorced_on, "backfill-divorce")
        .await
        .expect("divorce back-filled");
    // Keyed by the reference's pseudonym: the reference a clerk typed is no stream key.
    assert_eq!(
        application,
        ApplicationId::backfilled(&archive_key("BX-2005-0045"))
    );
    assert!(!application.as_str().contains("2005"), "{application:?}");
    assert!(committed.is_some());
    // The same back-fill again answers the same and records nothing.
    let (again, recorded) = backfill("BX-2005-0045", divorced_on, "backfill-divorce-again")
        .await
        .expect("idempotent");
    assert_eq!(again, application);
    assert_replayed(recorded);
    // So does the same reference typed in lower case: one archive file, one record.
    let (lower, recorded) = backfill("bx-2005-0045", divorced_on, "backfill-divorce-lower")
        .await
        .expect("the same file");
    assert_eq!(lower, application);
    assert_replayed(recorded);
    // Another divorce of the same marriage, or another one under the same reference: refused.
    let twice = backfill("BX-2006-0001", date!(2006 - 01 - 01), "twice")
        .await
        .expect_err("already dissolved");
    assert_eq!(rule(twice), "marriage_dissolved");
    let reused = backfill("BX-2005-0045", date!(2005 - 03 - 02), "reused")
        .await
        .expect_err("reference taken");
    assert_eq!(rule(reused), "already_applied");

    let facts = app
        .divorce_application(&application)
        .await
        .expect("entered");
    assert_eq!(facts.appointment, None);
    assert_eq!(
        facts.state,
        divorce::State::Registered {
            on: divorced_on,
            certificate_number: "本离字第0045号".into(),
            appointment: None,
        }
    );
    let record = app.marriage(&marriage).await.expect("kept");
    assert_eq!(record.dissolved.map(|d| d.on), Some(divorced_on));

    for spouse in [OLD_MAN, OLD_WOMAN] {
        let in_2003 = app
            .status_after_catching_up(&citizen(spouse), date!(2003 - 06 - 01))
            .await
            .expect("status");
        assert_eq!(in_2003.period.map(|p| p.status), Some(Status::Married));
        assert_eq!(
            in_2003.certificate_number.as_deref(),
            Some("本结字第0123号")
        );
        let in_2006 = app
            .status_after_catching_up(&citizen(spouse), date!(2006 - 06 - 01))
            .await
            .expect("status");
        let period = in_2006.period.expect("a status");
        assert_eq!(period.status, Status::Divorced);
        assert_eq!(period.record, application.as_str());
        assert_eq!(
            in_2006.certificate_number.as_deref(),
            Some("本离字第0045号")
        );
    }

    // No bigamy refusal: the man marries again.
    let wedding = attend(
        &app,
        &clock,
        date!(2025 - 06 - 10),
        Service::Marriage,
        &[OLD_MAN, WIFE],
    )
    .await;
    let married = app
        .register_marriage(
            &wedding,
            [party(OLD_MAN, "李建国"), party(WIFE, "李四")],
            checks(&[OLD_MAN, WIFE]),
            &key("marry-again"),
        )
        .await
        .expect("registered: the archived marriage has ended");
    let now = app
        .status_after_catching_up(&citizen(OLD_MAN), date!(2025 - 06 - 10))
        .await
        .expect("status")
        .period
        .expect("a status");
    assert_eq!(
        (now.status, now.marriage),
        (Status::Married, married.marriage)
    );
}

/// Appends `event` to `stream` as if it had been recorded long ago, when another rule applied.
async fn record_earlier<E: EventCodec>(store: &SharedStore, stream: StreamId, event: E) {
    store
        .append(AppendRequest {
            stream,
            expected: ExpectedVersion::NoStream,
            events: vec![NewEvent::new(
                event.event_type(),
                event.schema_version(),
                event.encode(),
            )],
            metadata: Metadata::default(),
        })
        .await
        .expect("recorded");
}

/// A stored event is history: an application received when the law gave 45 days to cool off,
/// and a slot published when a slot could take 150 people, load at start (the overview reads
/// every event then) and are answered from as they were recorded.
#[tokio::test]
async fn events_recorded_under_older_rules_load_at_start_and_are_answered_as_recorded() {
    let db = TestSqlite::create();
    let store: SharedStore = Arc::new(
        SqliteStore::connect(&db.url, Upcasters::new())
            .await
            .expect("store opens"),
    );
    let registry = RegionCode::parse(PINGSHAN).expect("valid");
    let applied_on = date!(2025 - 07 - 01);
    let day = |n: i64| add_days(applied_on, n).expect("in range");
    let filing = AppointmentId::parse("210502-20250701-001").expect("valid");
    let application = ApplicationId::received(&filing);
    record_earlier(
        &store,
        StreamId::new(DivorceApplication::CATEGORY, application.as_str()).expect("valid"),
        divorce::Event::Applied(divorce::Applied {
            id: application.clone(),
            marriage: MarriageId::parse("J210502-20250610-001").expect("valid"),
            registry,
            applied_on,
            parties: [party(HUSBAND, "张三"), party(WIFE, "李四")],
            verifications: checks(&[HUSBAND, WIFE]),
            // The law of the day: 45 days to cool off, 30 more to come back.
            cooling_off_ends_on: day(45),
            last_day_to_register: day(75),
            appointment: filing,
        }),
    )
    .await;
    let busy_day = date!(2025 - 08 - 01);
    let slot = SlotId::parse("0900").expect("valid");
    record_earlier(
        &store,
        StreamId::new(RegistryDay::CATEGORY, day_key(registry, busy_day).as_str()).expect("valid"),
        registry_day::Event::SlotsPublished(registry_day::SlotsPublished {
            registry,
            day: busy_day,
            // Today's policy allows 1 to 100.
            slots: vec![(slot, 150)],
            published_on: date!(2025 - 06 - 01),
        }),
    )
    .await;

    let clock = FixedClock::new(day(1));
    let app = open(&db, &clock).await;

    // The overview built at start knows the application as pending until its own last day.
    {
        let overview = app.view().read().await;
        let marriage = MarriageId::parse("J210502-20250610-001").expect("valid");
        assert_eq!(
            overview.pending_application_of(&marriage),
            Some(&application)
        );
        assert!(
            overview.lapsed_by(day(61)).is_empty(),
            "not under today's 60 days"
        );
        assert_eq!(
            overview.lapsed_by(day(76)),
            std::slice::from_ref(&application)
        );
    }
    let read = app
        .divorce_application(&application)
        .await
        .expect("the application loads");
    assert_eq!(
        (read.cooling_off_ends_on, read.last_day_to_register),
        (day(45), day(75))
    );
    let published = app
        .registry_day(registry, busy_day)
        .await
        .expect("the day loads");
    assert_eq!(published.slots().collect::<Vec<_>>(), [(slot, 150, 0)]);
    app.book(
        registry,
        busy_day,
        slot,
        Service::Marriage,
        vec![citizen("210502199601010029"), citizen(HUSBAND)],
        &key("book-the-big-slot"),
    )
    .await
    .expect("a slot of 150 takes bookings");
    assert_eq!(
        app.registry_day(registry, busy_day)
            .await
            .expect("the day loads")
            .slots()
            .collect::<Vec<_>>(),
        [(slot, 150, 1)]
    );

    // The lapse follows the recorded window: not on day 61 (today's law), on day 76.
    clock.set(day(61));
    assert_eq!(app.sweep().await.expect("sweeps").lapsed_applications, 0);
    clock.set(day(76));
    assert_eq!(app.sweep().await.expect("sweeps").lapsed_applications, 1);
    assert_eq!(
        app.divorce_application(&application)
            .await
            .expect("loads")
            .state,
        divorce::State::Lapsed { on: day(76) }
    );
}

/// A repeated command's answer: nothing appended, but where the record stands (a position to
/// read the first attempt's write at), as the command contract promises the first result.
fn assert_replayed(committed: Option<minzheng_kit::aggregate::Committed>) {
    let committed = committed.expect("a repeat still says where its record stands");
    assert!(committed.replayed, "{committed:?}");
    assert!(
        committed.event_ids.is_empty(),
        "nothing appended: {committed:?}"
    );
    assert!(committed.position > 0, "{committed:?}");
}
