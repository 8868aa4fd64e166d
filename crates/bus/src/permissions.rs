//! Who may do what on the bus: the NATS accounts and permissions that make sharing out
//! enforceable (`DESIGN.md`, "The bus contract": agencies never read `minzheng.>`).
//!
//! Everything lives in one NATS account (`MINZHENG` in production) with JetStream, and every
//! user has an allow-list, so anything not listed is refused:
//!
//! - **One user per service**, named after it, which publishes only its own events
//!   (`<prefix>.<service>.>`) and dead letters (`<prefix>.deadletter.>`). Of the JetStream API it
//!   may create, update, read and get messages of its own stream and of the dead-letter stream,
//!   read the information of the other services' streams, and use any consumer
//!   (`$JS.API.CONSUMER.>`, `$JS.ACK.>`, `$JS.FC.>`): services read each other's events through
//!   durable pull consumers. It receives on `_INBOX.>` only (replies, pulled messages).
//! - **The sharing service** (data sharing) also publishes every shared copy (`<root>.>`, see
//!   [`ShareNaming`]) and owns the share stream and each configured agency's stream (create,
//!   update, information, message get). An agency's stream has no subjects: the server sources it
//!   from the share stream, so neither the sharing service nor the agency needs a permission for
//!   the copy.
//! - **One user per agency**, named after its code, which may only use the JetStream API of its
//!   own stream `<PREFIX>_SHARE_<AGENCY>` (stream information, consumers: create in every form
//!   nats-server 2.9 and the clients use, information, delete, names, list, next message; acks and
//!   flow control), and receive only its own subjects (`<root>.<agency>.>`) and replies on its
//!   own inbox prefix ([`ShareNaming::agency_inbox_prefix`]). It publishes nothing else: not an
//!   event, not another stream's API. Its client must set that inbox prefix (async-nats'
//!   `custom_inbox_prefix`), since `_INBOX.>` is the services'.
//!
//! Passwords are never in the configuration: each user's is the environment variable
//! [`password_variable`] of its name (`MZ_NATS_PASSWORD_<USER>`), which nats-server reads at
//! start-up (`$VAR` in its configuration) and refuses to start without.
//!
//! Every name is derived from [`BusNaming`] and [`ShareNaming`], so the permissions follow the
//! bus contract wherever it changes. Only features of nats-server 2.9 are used.
//!
//! Agencies create no consumers: subject permissions cannot tell a push consumer from a pull
//! one, and a push consumer delivers to any subject its creator may subscribe to — an agency's
//! shared subjects included, which the share stream captures, so the server would loop the
//! agency's copies back into it. The data-sharing service creates one durable pull consumer per
//! agency stream (`streams::ensure_agency_stream`), which the agency may only fetch from and
//! acknowledge.

use std::{collections::BTreeSet, fmt::Write as _};

use crate::naming::{BusNaming, NamingError, ShareNaming};

/// The JetStream API's subject prefix.
const JS_API: &str = "$JS.API";

/// The longest line of a comment in the configuration.
const WIDTH: usize = 100;

/// A configuration that cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PermissionsError {
    #[error(transparent)]
    Naming(#[from] NamingError),
    #[error("{what} {name:?} is listed twice")]
    Duplicate { what: &'static str, name: String },
    #[error("the sharing service {0:?} is not among the services")]
    SharingServiceMissing(String),
    #[error("{0:?} is both a service and an agency; every user needs a name of its own")]
    NameClash(String),
    #[error(
        "a service cannot be called {0:?}: its stream or subjects would be the dead letters' or \
         the shares'"
    )]
    ReservedService(String),
}

/// One NATS user: its name, where its password comes from, and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPermissions {
    /// The user name (a service's name or an agency's code).
    pub user: String,
    /// The environment variable holding the password ([`password_variable`]).
    pub password_variable: String,
    /// Who this is, written as a comment above the user in the configuration.
    pub about: String,
    /// Subjects the user may publish on (NATS wildcards allowed).
    pub publish: Vec<String>,
    /// Subjects the user may subscribe to.
    pub subscribe: Vec<String>,
}

/// The account of a deployment and its users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accounts {
    /// The NATS account: the prefix in capitals (`MINZHENG`).
    pub account: String,
    pub users: Vec<UserPermissions>,
}

/// The environment variable nats-server reads `user`'s password from:
/// `MZ_NATS_PASSWORD_<USER>`.
pub fn password_variable(user: &str) -> String {
    format!("MZ_NATS_PASSWORD_{}", user.to_ascii_uppercase())
}

/// The users of a deployment under `prefix`: one per service of `services` (the one called
/// `sharing_service` also publishing the shares) and one per agency of `agencies`.
pub fn accounts(
    prefix: &str,
    services: &[&str],
    sharing_service: &str,
    agencies: &[&str],
) -> Result<Accounts, PermissionsError> {
    let share = ShareNaming::with_prefix(prefix)?;
    let services = services
        .iter()
        .map(|service| BusNaming::with_prefix(prefix, service))
        .collect::<Result<Vec<_>, _>>()?;
    for agency in agencies {
        share.agency_stream(agency)?;
    }
    unique("service", services.iter().map(BusNaming::service))?;
    unique("agency", agencies.iter().copied())?;
    for naming in &services {
        let name = naming.service();
        let stream = naming.stream_name();
        let reserved = stream == naming.deadletter_stream()
            || naming.stream_subjects() == naming.deadletter_subjects()
            || stream == share.stream_name()
            || stream.starts_with(&format!("{}_", share.stream_name()));
        if reserved {
            return Err(PermissionsError::ReservedService(name.to_owned()));
        }
        if agencies.contains(&name) {
            return Err(PermissionsError::NameClash(name.to_owned()));
        }
    }
    if !services.iter().any(|s| s.service() == sharing_service) {
        return Err(PermissionsError::SharingServiceMissing(
            sharing_service.to_owned(),
        ));
    }
    let mut users = Vec::with_capacity(services.len() + agencies.len());
    for naming in &services {
        let sharing = (naming.service() == sharing_service).then_some(Sharing {
            share: &share,
            agencies,
        });
        users.push(service_user(naming, &services, sharing)?);
    }
    for agency in agencies {
        users.push(agency_user(&share, agency)?);
    }
    Ok(Accounts {
        account: prefix.to_ascii_uppercase(),
        users,
    })
}

/// The nats-server configuration of [`accounts`]: an `accounts { … }` block to include in the
/// server's configuration.
pub fn nats_config(
    prefix: &str,
    services: &[&str],
    sharing_service: &str,
    agencies: &[&str],
) -> Result<String, PermissionsError> {
    Ok(accounts(prefix, services, sharing_service, agencies)?.to_config())
}

impl Accounts {
    /// The user called `name`.
    pub fn user(&self, name: &str) -> Option<&UserPermissions> {
        self.users.iter().find(|user| user.user == name)
    }

    /// The `accounts { … }` block of nats-server's configuration. Subjects are quoted (a `$`
    /// outside quotes is a variable reference); passwords are `$MZ_NATS_PASSWORD_…` references.
    pub fn to_config(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "accounts {{");
        let _ = writeln!(text, "  {} {{", self.account);
        let _ = writeln!(text, "    jetstream: enabled");
        let _ = writeln!(text, "    users: [");
        for user in &self.users {
            write_comment(&mut text, "      # ", &user.about);
            let _ = writeln!(text, "      {{");
            let _ = writeln!(text, "        user: {}", user.user);
            let _ = writeln!(text, "        password: ${}", user.password_variable);
            let _ = writeln!(text, "        permissions: {{");
            write_subjects(&mut text, "publish", &user.publish);
            write_subjects(&mut text, "subscribe", &user.subscribe);
            let _ = writeln!(text, "        }}");
            let _ = writeln!(text, "      }}");
        }
        let _ = writeln!(text, "    ]");
        let _ = writeln!(text, "  }}");
        let _ = writeln!(text, "}}");
        text
    }
}

/// Writes `comment` as lines of at most [`WIDTH`] characters, each starting with `lead`.
fn write_comment(text: &mut String, lead: &str, comment: &str) {
    let mut line = String::from(lead);
    for word in comment.split_whitespace() {
        if line.len() > lead.len() && line.len() + 1 + word.len() > WIDTH {
            let _ = writeln!(text, "{line}");
            line = String::from(lead);
        }
        if line.len() > lead.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    let _ = writeln!(text, "{line}");
}

fn write_subjects(text: &mut String, what: &str, subjects: &[String]) {
    let _ = writeln!(text, "          {what}: {{");
    let _ = writeln!(text, "            allow: [");
    for subject in subjects {
        let _ = writeln!(text, "              \"{subject}\"");
    }
    let _ = writeln!(text, "            ]");
    let _ = writeln!(text, "          }}");
}

fn unique<'a>(
    what: &'static str,
    names: impl Iterator<Item = &'a str>,
) -> Result<(), PermissionsError> {
    let mut seen = BTreeSet::new();
    for name in names {
        if !seen.insert(name) {
            return Err(PermissionsError::Duplicate {
                what,
                name: name.to_owned(),
            });
        }
    }
    Ok(())
}

/// What the sharing service shares: under which names, with which agencies.
struct Sharing<'a> {
    share: &'a ShareNaming,
    agencies: &'a [&'a str],
}

/// A service: its own events and dead letters, its own and the dead-letter streams, the other
/// services' streams' information, and every consumer. The sharing service also publishes the
/// shares and owns the share stream and the agencies' streams.
fn service_user(
    naming: &BusNaming,
    services: &[BusNaming],
    sharing: Option<Sharing<'_>>,
) -> Result<UserPermissions, PermissionsError> {
    let mut about = format!(
        "The {} service: publishes its events ({}) and dead letters; reads the other services' \
         streams through durable pull consumers.",
        naming.service(),
        naming.stream_subjects()
    );
    let mut publish = vec![naming.stream_subjects(), naming.deadletter_subjects()];
    let mut owned = vec![naming.stream_name().to_owned(), naming.deadletter_stream()];
    if let Some(Sharing { share, agencies }) = sharing {
        publish.push(share.stream_subjects());
        owned.push(share.stream_name());
        for agency in agencies {
            owned.push(share.agency_stream(agency)?);
        }
        about.push_str(&format!(
            " Also publishes the copies shared with agencies ({}) and owns their streams.",
            share.stream_subjects()
        ));
    }
    publish.push(format!("{JS_API}.INFO"));
    for stream in &owned {
        publish.extend(
            ["CREATE", "UPDATE", "INFO", "MSG.GET"]
                .map(|verb| format!("{JS_API}.STREAM.{verb}.{stream}")),
        );
    }
    publish.extend(
        services
            .iter()
            .filter(|other| other.service() != naming.service())
            .map(|other| format!("{JS_API}.STREAM.INFO.{}", other.stream_name())),
    );
    publish.extend([
        format!("{JS_API}.CONSUMER.>"),
        "$JS.ACK.>".to_owned(),
        "$JS.FC.>".to_owned(),
    ]);
    Ok(UserPermissions {
        user: naming.service().to_owned(),
        password_variable: password_variable(naming.service()),
        about,
        publish,
        subscribe: vec!["_INBOX.>".to_owned()],
    })
}

/// An agency: its own stream and the durable pull consumer the data-sharing service made on it,
/// its own subjects and inbox, nothing else. It creates no consumer: a push consumer delivers
/// to any subject the agency may subscribe to, its shared subjects included, which the share
/// stream captures — the server would loop its copies back into the share stream.
fn agency_user(share: &ShareNaming, agency: &str) -> Result<UserPermissions, PermissionsError> {
    let stream = share.agency_stream(agency)?;
    let consumer = share.agency_consumer(agency)?;
    let publish = vec![
        format!("{JS_API}.INFO"),
        format!("{JS_API}.STREAM.INFO.{stream}"),
        // A copy by its sequence (to read again from any point).
        format!("{JS_API}.STREAM.MSG.GET.{stream}"),
        format!("{JS_API}.CONSUMER.INFO.{stream}.{consumer}"),
        format!("{JS_API}.CONSUMER.MSG.NEXT.{stream}.{consumer}"),
        format!("$JS.ACK.{stream}.{consumer}.>"),
    ];
    let subscribe = vec![
        share.agency_subjects(agency)?,
        format!("{}.>", share.agency_inbox_prefix(agency)?),
    ];
    Ok(UserPermissions {
        user: agency.to_owned(),
        password_variable: password_variable(agency),
        about: format!(
            "The agency {agency}: reads only its own stream {stream} and subjects {}; its \
             clients must use the inbox prefix {}.",
            share.agency_subjects(agency)?,
            share.agency_inbox_prefix(agency)?
        ),
        publish,
        subscribe,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::naming::DEFAULT_PREFIX;

    const SERVICES: &[&str] = &["placenames", "civilregistry", "assistance", "datasharing"];

    fn production(agencies: &[&str]) -> Accounts {
        accounts(DEFAULT_PREFIX, SERVICES, "datasharing", agencies).expect("valid configuration")
    }

    #[test]
    fn a_service_publishes_only_its_own_events_and_dead_letters() {
        let accounts = production(&["health"]);
        assert_eq!(accounts.account, "MINZHENG");
        let assistance = accounts.user("assistance").expect("a user per service");
        assert_eq!(assistance.password_variable, "MZ_NATS_PASSWORD_ASSISTANCE");
        let events: Vec<&String> = assistance
            .publish
            .iter()
            .filter(|s| !s.starts_with('$'))
            .collect();
        assert_eq!(events, ["minzheng.assistance.>", "minzheng.deadletter.>"]);
        for allowed in [
            "$JS.API.INFO",
            "$JS.API.STREAM.CREATE.MINZHENG_ASSISTANCE",
            "$JS.API.STREAM.UPDATE.MINZHENG_ASSISTANCE",
            "$JS.API.STREAM.MSG.GET.MINZHENG_ASSISTANCE",
            "$JS.API.STREAM.CREATE.MINZHENG_DEADLETTER",
            "$JS.API.STREAM.INFO.MINZHENG_CIVILREGISTRY",
            "$JS.API.CONSUMER.>",
            "$JS.ACK.>",
            "$JS.FC.>",
        ] {
            assert!(assistance.publish.iter().any(|s| s == allowed), "{allowed}");
        }
        assert!(
            !assistance
                .publish
                .iter()
                .any(|s| s.contains("CREATE.MINZHENG_CIVILREGISTRY") || s.contains("SHARE")),
            "{assistance:?}"
        );
        assert_eq!(assistance.subscribe, ["_INBOX.>"]);
    }

    #[test]
    fn the_sharing_service_also_publishes_the_shares_and_owns_their_streams() {
        let accounts = production(&["health", "public_security"]);
        let datasharing = accounts.user("datasharing").expect("the sharing service");
        assert!(datasharing.publish.iter().any(|s| s == "share.>"));
        for stream in [
            "MINZHENG_SHARE",
            "MINZHENG_SHARE_HEALTH",
            "MINZHENG_SHARE_PUBLIC_SECURITY",
        ] {
            for verb in ["CREATE", "UPDATE", "INFO", "MSG.GET"] {
                let subject = format!("$JS.API.STREAM.{verb}.{stream}");
                assert!(datasharing.publish.contains(&subject), "{subject}");
            }
        }
        let placenames = accounts.user("placenames").expect("a service");
        assert!(!placenames.publish.iter().any(|s| s.starts_with("share")));
    }

    #[test]
    fn an_agency_gets_its_own_stream_subjects_and_inbox_and_nothing_else() {
        let accounts = production(&["health", "public_security"]);
        let agency = accounts.user("public_security").expect("a user per agency");
        assert_eq!(agency.password_variable, "MZ_NATS_PASSWORD_PUBLIC_SECURITY");
        assert_eq!(
            agency.subscribe,
            ["share.public_security.>", "_INBOX_public_security.>"]
        );
        for subject in &agency.publish {
            assert!(
                subject == "$JS.API.INFO"
                    || subject.contains(".MINZHENG_SHARE_PUBLIC_SECURITY.")
                    || subject.ends_with(".MINZHENG_SHARE_PUBLIC_SECURITY"),
                "{subject}"
            );
            assert!(!subject.contains("STREAM.CREATE") && !subject.contains("STREAM.UPDATE"));
        }
        assert!(agency.publish.contains(
            &"$JS.API.CONSUMER.MSG.NEXT.MINZHENG_SHARE_PUBLIC_SECURITY.public_security".to_owned()
        ));
        // No consumer of its own: a push consumer could deliver into the share stream.
        assert!(!agency.publish.iter().any(|s| s.contains("CONSUMER.CREATE")
            || s.contains("CONSUMER.DURABLE")
            || s.contains("CONSUMER.DELETE")));
    }

    #[test]
    fn names_that_are_not_tokens_or_collide_are_refused() {
        let config = |services: &[&str], agencies: &[&str]| {
            nats_config(DEFAULT_PREFIX, services, "datasharing", agencies)
        };
        // An agency code that is not a token would widen its subjects.
        assert!(matches!(
            config(SERVICES, &["health.>"]),
            Err(PermissionsError::Naming(_))
        ));
        assert!(config(SERVICES, &["Health"]).is_err());
        assert!(config(SERVICES, &["*"]).is_err());
        assert!(config(SERVICES, &[""]).is_err());
        assert!(config(&["place.names", "datasharing"], &[]).is_err());
        assert_eq!(
            config(SERVICES, &["health", "health"]),
            Err(PermissionsError::Duplicate {
                what: "agency",
                name: "health".to_owned()
            })
        );
        assert_eq!(
            config(SERVICES, &["assistance"]),
            Err(PermissionsError::NameClash("assistance".to_owned()))
        );
        assert_eq!(
            config(&["assistance"], &[]),
            Err(PermissionsError::SharingServiceMissing(
                "datasharing".to_owned()
            ))
        );
        for reserved in ["deadletter", "share", "share_health"] {
            assert_eq!(
                config(&["datasharing", reserved], &[]),
                Err(PermissionsError::ReservedService(reserved.to_owned()))
            );
        }
    }

    #[test]
    fn the_configuration_quotes_subjects_and_reads_passwords_from_the_environment() {
        let config = production(&["health"]).to_config();
        assert!(config.starts_with("accounts {\n  MINZHENG {\n    jetstream: enabled\n"));
        assert!(config.contains("        user: health\n"));
        assert!(config.contains("        password: $MZ_NATS_PASSWORD_HEALTH\n"));
        assert!(config.contains("              \"$JS.API.STREAM.INFO.MINZHENG_SHARE_HEALTH\"\n"));
        // Every subject is quoted: an unquoted `$JS` would be a variable reference.
        for line in config.lines().filter(|l| l.contains("$JS")) {
            assert!(line.trim().starts_with('"'), "{line}");
        }
    }

    #[test]
    fn other_prefixes_get_their_own_account_and_share_root() {
        let accounts = accounts("t42", &["widgets"], "widgets", &["health"]).expect("valid");
        assert_eq!(accounts.account, "T42");
        let health = accounts.user("health").expect("agency");
        assert_eq!(health.subscribe[0], "t42_share.health.>");
        assert!(
            health
                .publish
                .contains(&"$JS.API.STREAM.INFO.T42_SHARE_HEALTH".to_owned())
        );
        let widgets = accounts.user("widgets").expect("service");
        assert!(widgets.publish.contains(&"t42_share.>".to_owned()));
    }
}
