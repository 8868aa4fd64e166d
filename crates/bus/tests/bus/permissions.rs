//! The shipped NATS accounts (`deploy/nats/accounts.conf`) on a real nats-server started with
//! them: an agency reads its own stream and subjects and is refused everything else, a service
//! publishes only its own events. Each test has a private server (the shared one runs without
//! accounts) using the production names, as the file does; passwords are made up per test and
//! given to the server through the environment, as in production.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use async_nats::{
    ConnectOptions, Event,
    jetstream::{
        self,
        consumer::{AckPolicy, pull},
    },
};
use bytes::Bytes;
use futures::StreamExt as _;
use minzheng_bus::{
    BusNaming, DEFAULT_PREFIX, ShareNaming,
    permissions::password_variable,
    streams::{self, StreamSettings},
};
use minzheng_eventstore::StreamId;
use minzheng_testkit::{nats_server::NatsServer, unique_name};

use crate::support::eventually;

/// The accounts configuration as shipped.
const SHIPPED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../deploy/nats/accounts.conf"
);

const WAIT: Duration = Duration::from_secs(15);

/// A private nats-server running the shipped accounts, and every user's password.
struct Bus {
    server: NatsServer,
    passwords: Vec<(String, String)>,
    _config: tempfile::TempDir,
}

impl Bus {
    /// Starts nats-server with a configuration that includes the shipped file unchanged. The
    /// file is copied beside the wrapper: nats-server 2.9 resolves an `include` relative to the
    /// including file's directory, absolute paths too.
    fn start() -> Self {
        let shipped = std::fs::read_to_string(SHIPPED).expect("deploy/nats/accounts.conf");
        let config = tempfile::tempdir().expect("temporary directory for the configuration");
        std::fs::write(config.path().join("accounts.conf"), &shipped).expect("copy the accounts");
        let server_conf = config.path().join("server.conf");
        std::fs::write(&server_conf, "include ./accounts.conf\n").expect("write the server.conf");
        // Every user of the file and the variable nats-server reads its password from; the
        // server refuses to start while one is missing.
        let mut passwords = Vec::new();
        let mut user = None;
        for line in shipped.lines().map(str::trim) {
            if let Some(name) = line.strip_prefix("user: ") {
                user = Some(name.to_owned());
            } else if let Some(variable) = line.strip_prefix("password: $") {
                let user = user.take().expect("a password follows its user");
                assert_eq!(variable, password_variable(&user));
                passwords.push((user, unique_name("pw")));
            }
        }
        let env: Vec<(String, &str)> = passwords
            .iter()
            .map(|(user, password)| (password_variable(user), password.as_str()))
            .collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let server = NatsServer::start_with_config(&server_conf, &env);
        Self {
            server,
            passwords,
            _config: config,
        }
    }

    /// Logs in as `user`, with `inbox_prefix` for the replies when given.
    async fn login(&self, user: &str, inbox_prefix: Option<&str>) -> Login {
        let password = self
            .passwords
            .iter()
            .find(|(name, _)| name == user)
            .unwrap_or_else(|| panic!("no user {user} in deploy/nats/accounts.conf"))
            .1
            .clone();
        let errors = Arc::new(Mutex::new(Vec::new()));
        let seen = errors.clone();
        let mut options = ConnectOptions::with_user_and_password(user.to_owned(), password)
            .event_callback(move |event| {
                let seen = seen.clone();
                async move {
                    if let Event::ServerError(error) = event {
                        seen.lock().expect("errors").push(error.to_string());
                    }
                }
            });
        if let Some(prefix) = inbox_prefix {
            options = options.custom_inbox_prefix(prefix);
        }
        let client = options
            .connect(self.server.url())
            .await
            .unwrap_or_else(|e| panic!("log in as {user}: {e}"));
        let js = jetstream::ContextBuilder::new()
            .timeout(WAIT)
            .build(client.clone());
        // A refused request is never answered: it fails when this runs out.
        let refused_js = jetstream::ContextBuilder::new()
            .timeout(Duration::from_secs(2))
            .build(client.clone());
        Login {
            client,
            js,
            refused_js,
            errors,
        }
    }
}

/// A client logged in as one user, with the errors the server sent it.
struct Login {
    client: async_nats::Client,
    js: jetstream::Context,
    /// For requests the server refuses: they fail after 2 s.
    refused_js: jetstream::Context,
    errors: Arc<Mutex<Vec<String>>>,
}

impl Login {
    /// Waits for the server's `-ERR 'Permissions Violation for <what> to "<subject>…'`, `what`
    /// being `Subscription` or `Publish` and `subject` the subject or its beginning.
    async fn refused(&self, what: &str, subject: &str) {
        let expected = format!("permissions violation for {what} to \"{subject}").to_lowercase();
        let _ = self.client.flush().await;
        eventually(
            &format!("the server to refuse {what} to {subject}"),
            WAIT,
            || {
                let found = self
                    .errors
                    .lock()
                    .expect("errors")
                    .iter()
                    .any(|error| error.to_lowercase().contains(&expected));
                async move { found }
            },
        )
        .await;
    }

    /// Fails the test if the server refused anything so far.
    async fn nothing_refused(&self, when: &str) {
        self.client.flush().await.expect("flush");
        // Events reach the callback shortly after the PONG of the flush.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let errors = self.errors.lock().expect("errors").clone();
        assert!(errors.is_empty(), "{when}: {errors:?}");
    }
}

fn share() -> ShareNaming {
    ShareNaming::with_prefix(DEFAULT_PREFIX).expect("production share names")
}

fn service(name: &str) -> BusNaming {
    BusNaming::new(name).expect("production names")
}

/// The subject of a `service` event of `event_type` in a stream of `category`.
fn event_subject(service_name: &str, category: &str, event_type: &str) -> String {
    let stream = StreamId::new(category, "k-1").expect("stream id");
    service(service_name).subject(&stream, event_type)
}

const DEATH: &str = "minzheng.civilregistry.v1.DeathRegistered";

/// Sets up what the services would: the civil registry's stream with one event, and, as the
/// data-sharing service, the share stream, the streams of public_security and health, and one
/// shared copy for each (health's first).
async fn services_publish(bus: &Bus) {
    let settings = StreamSettings::default();
    let civil = bus.login("civilregistry", None).await;
    streams::ensure_service_stream(&civil.js, &service("civilregistry"), &settings)
        .await
        .expect("the civil registry creates its stream");
    civil
        .js
        .publish(
            event_subject("civilregistry", "death", DEATH),
            Bytes::from_static(b"death"),
        )
        .await
        .expect("publish")
        .await
        .expect("the civil registry's event is stored");
    civil.nothing_refused("the civil registry's own work").await;

    let sharing = bus.login("datasharing", None).await;
    let share = share();
    streams::ensure_share_stream(&sharing.js, &share, &settings)
        .await
        .expect("data sharing creates the share stream");
    for agency in ["public_security", "health"] {
        streams::ensure_agency_stream(&sharing.js, &share, agency, &settings)
            .await
            .expect("data sharing creates the agency's stream");
    }
    for agency in ["health", "public_security"] {
        let subject = share.subject(agency, DEATH).expect("agency code");
        assert_eq!(
            subject,
            format!("share.{agency}.civilregistry.death_registered")
        );
        sharing
            .js
            .publish(subject, Bytes::from(format!("for {agency}")))
            .await
            .expect("publish")
            .await
            .expect("the shared copy is stored");
    }
    sharing
        .nothing_refused("the data-sharing service's work")
        .await;
}

/// How many messages `stream` holds, as `login` sees it.
async fn messages_in(login: &Login, stream: &str) -> u64 {
    let mut stream = login.js.get_stream(stream).await.expect("stream info");
    stream.info().await.expect("stream info").state.messages
}

#[tokio::test]
async fn an_agency_reads_its_own_share_and_is_refused_everything_else() {
    let bus = Bus::start();
    let share = share();
    let agency = "public_security";
    let own_stream = share.agency_stream(agency).expect("agency code");
    let inbox = share.agency_inbox_prefix(agency).expect("agency code");
    let ps = bus.login(agency, Some(&inbox)).await;

    // A core subscription on its own subjects sees the copies as they are shared.
    let mut live = ps
        .client
        .subscribe(share.agency_subjects(agency).expect("agency code"))
        .await
        .expect("subscribe");
    ps.client.flush().await.expect("flush");
    services_publish(&bus).await;
    let copy = tokio::time::timeout(WAIT, live.next())
        .await
        .expect("a live copy in time")
        .expect("subscription open");
    assert_eq!(
        copy.subject.as_str(),
        "share.public_security.civilregistry.death_registered"
    );
    assert_eq!(copy.payload.as_ref(), b"for public_security");

    // The durable pull consumer the service made on its stream gets exactly its copy, not
    // health's.
    let mut stream = ps.js.get_stream(&own_stream).await.expect("its stream");
    let mut durable = stream
        .get_consumer::<pull::Config>(&share.agency_consumer(agency).expect("agency code"))
        .await
        .expect("its consumer");
    let mut received = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while received.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the copy never reached {own_stream}"
        );
        let mut batch = durable
            .fetch()
            .max_messages(10)
            .expires(Duration::from_millis(500))
            .messages()
            .await
            .expect("fetch");
        while let Some(message) = batch.next().await {
            let message = message.expect("a message");
            message.ack().await.expect("ack");
            received.push((message.subject.to_string(), message.payload.clone()));
        }
    }
    assert_eq!(
        received,
        [(
            "share.public_security.civilregistry.death_registered".to_owned(),
            Bytes::from_static(b"for public_security")
        )]
    );
    // Health's copy, shared before, was filtered out when the stream was sourced.
    let info = stream.info().await.expect("stream info");
    assert_eq!(info.state.messages, 1, "{info:?}");
    durable.info().await.expect("its consumer's info");
    stream
        .get_raw_message(1)
        .await
        .expect("a copy by its sequence");
    ps.nothing_refused("reading its own share").await;

    // Everything else is refused.
    let _ = ps.client.subscribe(format!("{DEFAULT_PREFIX}.>")).await;
    ps.refused("Subscription", "minzheng.>").await;
    let _ = ps
        .client
        .subscribe(share.agency_subjects("health").expect("agency code"))
        .await;
    ps.refused("Subscription", "share.health.>").await;

    let health_stream = share.agency_stream("health").expect("agency code");
    let reader = || pull::Config {
        durable_name: Some("reader".to_owned()),
        ..Default::default()
    };
    let civil_stream = service("civilregistry").stream_name().to_owned();
    let (on_own, on_health, on_share, on_civil, civil_info) = tokio::join!(
        ps.refused_js
            .create_consumer_on_stream(reader(), &own_stream),
        ps.refused_js
            .create_consumer_on_stream(reader(), &health_stream),
        ps.refused_js
            .create_consumer_on_stream(reader(), share.stream_name()),
        ps.refused_js
            .create_consumer_on_stream(reader(), &civil_stream),
        ps.refused_js.get_stream(&civil_stream),
    );
    assert!(on_own.is_err(), "a consumer of its own on its stream");
    assert!(on_health.is_err(), "a consumer on health's stream");
    assert!(on_share.is_err(), "a consumer on the share stream");
    assert!(
        on_civil.is_err(),
        "a consumer on the civil registry's stream"
    );
    assert!(civil_info.is_err(), "the civil registry's stream");
    ps.refused(
        "Publish",
        "$JS.API.CONSUMER.CREATE.MINZHENG_SHARE_PUBLIC_SECURITY.",
    )
    .await;
    ps.refused("Publish", "$JS.API.CONSUMER.CREATE.MINZHENG_SHARE_HEALTH.")
        .await;
    ps.refused("Publish", "$JS.API.CONSUMER.CREATE.MINZHENG_SHARE.")
        .await;
    ps.refused("Publish", "$JS.API.CONSUMER.CREATE.MINZHENG_CIVILREGISTRY.")
        .await;
    ps.refused("Publish", "$JS.API.STREAM.INFO.MINZHENG_CIVILREGISTRY\"")
        .await;

    ps.client
        .publish("share.public_security.x", Bytes::from_static(b"forged"))
        .await
        .expect("publish leaves the client");
    ps.refused("Publish", "share.public_security.x\"").await;

    // Nothing it tried reached a stream.
    let sharing = bus.login("datasharing", None).await;
    assert_eq!(messages_in(&sharing, &share.stream_name()).await, 2);
    assert_eq!(messages_in(&sharing, &own_stream).await, 1);
    assert_eq!(messages_in(&sharing, &health_stream).await, 1);
}

#[tokio::test]
async fn an_agency_client_without_its_inbox_prefix_gets_no_replies() {
    let bus = Bus::start();
    let share = share();
    let ps = bus.login("public_security", None).await;
    let stream = share.agency_stream("public_security").expect("agency code");
    assert!(ps.refused_js.get_stream(&stream).await.is_err());
    ps.refused("Subscription", "_INBOX.").await;
}

#[tokio::test]
async fn a_service_publishes_only_its_own_events_and_reads_the_others() {
    let bus = Bus::start();
    services_publish(&bus).await;
    let settings = StreamSettings::default();
    let assistance = bus.login("assistance", None).await;
    streams::ensure_service_stream(&assistance.js, &service("assistance"), &settings)
        .await
        .expect("assistance creates its stream");
    let own = event_subject("assistance", "case", "minzheng.assistance.v1.CaseOpened");
    assert_eq!(own, "minzheng.assistance.case.opened");
    assistance
        .js
        .publish(own, Bytes::from_static(b"opened"))
        .await
        .expect("publish")
        .await
        .expect("its own event is stored");

    // It reads the civil registry's events through a durable pull consumer, as projections do.
    streams::ensure_deadletter_stream(&assistance.js, &service("civilregistry"), &settings)
        .await
        .expect("the dead-letter stream");
    let consumer = assistance
        .js
        .get_stream(service("civilregistry").stream_name())
        .await
        .expect("the civil registry's stream info")
        .create_consumer(pull::Config {
            durable_name: Some("assistance_deaths".to_owned()),
            ack_policy: AckPolicy::Explicit,
            ..Default::default()
        })
        .await
        .expect("a durable consumer on another service's stream");
    let mut batch = consumer
        .fetch()
        .max_messages(1)
        .expires(Duration::from_secs(2))
        .messages()
        .await
        .expect("fetch");
    let death = batch
        .next()
        .await
        .expect("the civil registry's event")
        .expect("a message");
    assert_eq!(
        death.subject.as_str(),
        "minzheng.civilregistry.death.registered"
    );
    death.ack().await.expect("ack");
    assistance.nothing_refused("its own work").await;

    // Another service's subjects, the shares and another service's stream are refused.
    let forged = event_subject("civilregistry", "death", DEATH);
    assistance
        .client
        .publish(forged.clone(), Bytes::from_static(b"forged"))
        .await
        .expect("publish leaves the client");
    assistance.refused("Publish", &format!("{forged}\"")).await;
    let shared = share()
        .subject("public_security", DEATH)
        .expect("agency code");
    assistance
        .client
        .publish(shared.clone(), Bytes::from_static(b"forged"))
        .await
        .expect("publish leaves the client");
    assistance.refused("Publish", &format!("{shared}\"")).await;
    assert!(
        streams::ensure_service_stream(&assistance.refused_js, &service("placenames"), &settings)
            .await
            .is_err()
    );
    assistance
        .refused("Publish", "$JS.API.STREAM.CREATE.MINZHENG_PLACENAMES\"")
        .await;

    let civil = bus.login("civilregistry", None).await;
    assert_eq!(
        messages_in(&civil, service("civilregistry").stream_name()).await,
        1
    );
    let sharing = bus.login("datasharing", None).await;
    assert_eq!(messages_in(&sharing, &share().stream_name()).await, 2);
}

/// A push consumer on its own stream would deliver to any subject the agency has a literal
/// subscription on, its own `share.<agency>.…` included, which the share stream captures and
/// sources back into the agency's stream, and so on: the server would loop the agency's copies
/// into the share stream. Agencies create no consumers, so it cannot.
#[tokio::test]
async fn an_agency_cannot_publish_into_the_share_stream_through_a_push_consumer() {
    let bus = Bus::start();
    services_publish(&bus).await;
    let share = share();
    let agency = "public_security";
    let inbox = share.agency_inbox_prefix(agency).expect("agency code");
    let ps = bus.login(agency, Some(&inbox)).await;
    let target = share.subject(agency, "x.y.v1.Loop").expect("agency code");
    let _interest = ps
        .client
        .subscribe(target.clone())
        .await
        .expect("subscribe");
    ps.client.flush().await.expect("flush");
    let stream = ps
        .refused_js
        .get_stream(share.agency_stream(agency).expect("agency code"))
        .await
        .expect("its stream");
    let looping = tokio::time::timeout(
        WAIT,
        stream.create_consumer(jetstream::consumer::push::Config {
            durable_name: Some("looping".to_owned()),
            deliver_subject: target,
            ack_policy: AckPolicy::None,
            ..Default::default()
        }),
    )
    .await;
    assert!(
        !matches!(looping, Ok(Ok(_))),
        "an agency creates no push consumer"
    );
    ps.refused(
        "Publish",
        "$JS.API.CONSUMER.CREATE.MINZHENG_SHARE_PUBLIC_SECURITY.",
    )
    .await;
    let sharing = bus.login("datasharing", None).await;
    assert_eq!(messages_in(&sharing, &share.stream_name()).await, 2);
}
