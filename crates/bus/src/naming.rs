//! Names on the bus: the stream of a service, the subject of an event, the dead-letter subjects,
//! and the checkpoint names of relays. These names are the public contract other agencies
//! integrate against (`DESIGN.md`, "The bus contract"), so they are derived in exactly one place.
//!
//! A subject is `<prefix>.<service>.<aggregate>.<event>`: the aggregate is the event's stream
//! category and the event is the snake case of the protobuf message's short name, without the
//! category when it starts with it (`minzheng.widgets.v1.WidgetRenamed` in category
//! `widget` becomes `minzheng.widgets.widget.renamed`). Everything is lowercase and made
//! only of the event's type and category, never of a stream key, so no personal data can reach
//! a subject.
//!
//! This module does not know any service or event by name, and it does not talk to NATS.

use heck::ToSnakeCase;
use minzheng_eventstore::StreamId;

/// The subject prefix in production.
pub const DEFAULT_PREFIX: &str = "minzheng";

/// A name that cannot be used on the bus.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NamingError {
    #[error(
        "{what} {value:?} must be lowercase ASCII letters, digits or '_', starting with a letter"
    )]
    InvalidToken { what: &'static str, value: String },
    #[error(
        "consumer name {0:?} must be 1-64 lowercase ASCII letters, digits, '_' or '-', starting with a letter"
    )]
    InvalidConsumerName(String),
}

/// The bus names of one service: its stream, its subjects and the dead-letter names of its
/// deployment. Tests give every test its own prefix, so parallel tests never capture each
/// other's subjects (JetStream refuses streams with overlapping subjects).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusNaming {
    prefix: String,
    service: String,
    stream: String,
}

impl BusNaming {
    /// The production names of `service` (e.g. `widgets` → stream `MINZHENG_WIDGETS`
    /// capturing `minzheng.widgets.>`).
    pub fn new(service: &str) -> Result<Self, NamingError> {
        Self::with_prefix(DEFAULT_PREFIX, service)
    }

    /// The names of `service` under another prefix: stream `<PREFIX>_<SERVICE>` capturing
    /// `<prefix>.<service>.>`.
    pub fn with_prefix(prefix: &str, service: &str) -> Result<Self, NamingError> {
        check_token("subject prefix", prefix)?;
        check_token("service name", service)?;
        Ok(Self {
            prefix: prefix.to_owned(),
            service: service.to_owned(),
            stream: format!("{}_{}", prefix, service).to_ascii_uppercase(),
        })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// The JetStream stream holding this service's events.
    pub fn stream_name(&self) -> &str {
        &self.stream
    }

    /// The subjects the service's stream captures: `<prefix>.<service>.>`.
    pub fn stream_subjects(&self) -> String {
        format!("{}.{}.>", self.prefix, self.service)
    }

    /// A consumer filter for every event of one aggregate type: `<prefix>.<service>.<category>.>`.
    pub fn category_subjects(&self, category: &str) -> String {
        format!("{}.{}.{}.>", self.prefix, self.service, category)
    }

    /// The subject of an event of `event_type` in `stream`.
    pub fn subject(&self, stream: &StreamId, event_type: &str) -> String {
        format!(
            "{}.{}.{}.{}",
            self.prefix,
            self.service,
            stream.category(),
            event_token(stream.category(), event_type)
        )
    }

    /// The CloudEvents `source` of this service's events: `/<prefix>/<service>`.
    pub fn source(&self) -> String {
        format!("/{}/{}", self.prefix, self.service)
    }

    /// Where the relay of this service's store records what it has published.
    pub fn relay_checkpoint(&self) -> String {
        format!("relay:{}", self.stream)
    }

    /// The stream that keeps every consumer's dead letters: `<PREFIX>_DEADLETTER`.
    pub fn deadletter_stream(&self) -> String {
        format!("{}_DEADLETTER", self.prefix.to_ascii_uppercase())
    }

    /// The subjects the dead-letter stream captures: `<prefix>.deadletter.>`.
    pub fn deadletter_subjects(&self) -> String {
        format!("{}.deadletter.>", self.prefix)
    }

    /// The subject a consumer's parked events are published on: `<prefix>.deadletter.<consumer>`.
    pub fn deadletter_subject(&self, consumer: &ConsumerName) -> String {
        format!("{}.deadletter.{}", self.prefix, consumer.as_str())
    }
}

/// The names of what is shared out to other agencies (sharing out, 数据共享; `DESIGN.md`, "The
/// bus contract"). A shared copy is published once on `<root>.<agency>.<service>.<event>` into
/// the stream `<PREFIX>_SHARE`, which captures `<root>.>`; each agency reads its own stream
/// `<PREFIX>_SHARE_<AGENCY>`, sourced from it with the filter `<root>.<agency>.>`, so that NATS
/// permissions can give an agency its stream and subjects and nothing else. The root is `share`
/// under the production prefix and `<prefix>_share` under any other (tests, side-by-side
/// deployments), so two prefixes never capture each other's shares.
///
/// The agency is a code (lowercase ASCII letters, digits, `_`), never personal data; the service
/// and event are made only of the event's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareNaming {
    prefix: String,
    root: String,
}

impl ShareNaming {
    pub fn with_prefix(prefix: &str) -> Result<Self, NamingError> {
        check_token("subject prefix", prefix)?;
        let root = match prefix {
            DEFAULT_PREFIX => "share".to_owned(),
            other => format!("{other}_share"),
        };
        Ok(Self {
            prefix: prefix.to_owned(),
            root,
        })
    }

    /// The first token of every shared subject.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The stream every shared copy is published into: `<PREFIX>_SHARE`.
    pub fn stream_name(&self) -> String {
        format!("{}_SHARE", self.prefix.to_ascii_uppercase())
    }

    /// The subjects that stream captures: `<root>.>`.
    pub fn stream_subjects(&self) -> String {
        format!("{}.>", self.root)
    }

    /// An agency's subjects: `<root>.<agency>.>`.
    pub fn agency_subjects(&self, agency: &str) -> Result<String, NamingError> {
        check_token("agency", agency)?;
        Ok(format!("{}.{agency}.>", self.root))
    }

    /// An agency's own stream, sourced from [`Self::stream_name`]: `<PREFIX>_SHARE_<AGENCY>`.
    pub fn agency_stream(&self, agency: &str) -> Result<String, NamingError> {
        check_token("agency", agency)?;
        Ok(format!(
            "{}_{}",
            self.stream_name(),
            agency.to_ascii_uppercase()
        ))
    }

    /// The durable pull consumer of an agency's stream, which the data-sharing service creates
    /// and the agency reads through (it may create none of its own): the agency's code.
    pub fn agency_consumer(&self, agency: &str) -> Result<String, NamingError> {
        check_token("agency", agency)?;
        Ok(agency.to_owned())
    }

    /// The inbox prefix an agency's client must use (`_INBOX_<agency>`): its permissions let it
    /// receive replies there and nowhere else, so it never reads another client's replies.
    pub fn agency_inbox_prefix(&self, agency: &str) -> Result<String, NamingError> {
        check_token("agency", agency)?;
        Ok(format!("_INBOX_{agency}"))
    }

    /// The subject of a copy of an event of `event_type` shared with `agency`:
    /// `<root>.<agency>.<service>.<event>`, the service being the event type's package
    /// (`minzheng.<service>.v1.…`; `other` for a type not named so).
    pub fn subject(&self, agency: &str, event_type: &str) -> Result<String, NamingError> {
        check_token("agency", agency)?;
        let mut parts = event_type.split('.');
        let service = match (parts.next(), parts.next(), parts.next()) {
            (Some(_), Some(service), Some(_)) if check_token("service", service).is_ok() => service,
            _ => "other",
        };
        Ok(format!(
            "{}.{agency}.{service}.{}",
            self.root,
            event_token("", event_type)
        ))
    }
}

/// The checkpoint under which an embedded feed consumer saves its cursor in its own database
/// (`mz_checkpoints`).
pub fn feed_checkpoint(consumer: &str) -> String {
    format!("feed:{consumer}")
}

/// The name of a durable consumer: its JetStream durable name, its inbox and checkpoint key, and
/// a token of its dead-letter subject. Lowercase letters, digits, `_` and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConsumerName(String);

impl ConsumerName {
    pub fn parse(name: &str) -> Result<Self, NamingError> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if ok {
            Ok(Self(name.to_owned()))
        } else {
            Err(NamingError::InvalidConsumerName(name.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ConsumerName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `<event>` token of a subject: the snake case of the message's short name, without the
/// category prefix when the name starts with it and something is left.
pub fn event_token(category: &str, event_type: &str) -> String {
    let short = event_type.rsplit('.').next().unwrap_or(event_type);
    // The short name of a protobuf message is an identifier; anything else is replaced rather
    // than rejected, because a subject must always be derivable from a stored event.
    let snake: String = short
        .to_snake_case()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '_'
            }
        })
        .collect();
    let snake = if snake.is_empty() {
        "event".to_owned()
    } else {
        snake
    };
    match snake
        .strip_prefix(category)
        .and_then(|rest| rest.strip_prefix('_'))
    {
        Some(rest) if !rest.is_empty() => rest.to_owned(),
        _ => snake,
    }
}

fn check_token(what: &'static str, value: &str) -> Result<(), NamingError> {
    let ok = value.starts_with(|c: char| c.is_ascii_lowercase())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(NamingError::InvalidToken {
            what,
            value: value.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(category: &str) -> StreamId {
        StreamId::new(category, "w-0042").expect("valid stream id")
    }

    #[test]
    fn subjects_follow_the_bus_contract() {
        let naming = BusNaming::new("widgets").expect("valid naming");
        assert_eq!(naming.stream_name(), "MINZHENG_WIDGETS");
        assert_eq!(naming.stream_subjects(), "minzheng.widgets.>");
        assert_eq!(
            naming.subject(&stream("widget"), "minzheng.widgets.v1.WidgetRenamed"),
            "minzheng.widgets.widget.renamed"
        );
        assert_eq!(
            naming.subject(
                &stream("spare_part"),
                "minzheng.widgets.v1.SparePartProposed"
            ),
            "minzheng.widgets.spare_part.proposed"
        );
        assert_eq!(naming.source(), "/minzheng/widgets");
        assert_eq!(naming.relay_checkpoint(), "relay:MINZHENG_WIDGETS");
        assert_eq!(naming.deadletter_stream(), "MINZHENG_DEADLETTER");
        let consumer = ConsumerName::parse("reports_widgets").expect("valid name");
        assert_eq!(
            naming.deadletter_subject(&consumer),
            "minzheng.deadletter.reports_widgets"
        );
    }

    #[test]
    fn shared_copies_are_named_by_agency_and_event_type_only() {
        let production = ShareNaming::with_prefix(DEFAULT_PREFIX).expect("valid naming");
        assert_eq!(production.stream_name(), "MINZHENG_SHARE");
        assert_eq!(production.stream_subjects(), "share.>");
        assert_eq!(
            production.subject(
                "public_security",
                "minzheng.civilregistry.v1.DeathRegistered"
            ),
            Ok("share.public_security.civilregistry.death_registered".to_owned())
        );
        assert_eq!(
            production.agency_stream("public_security"),
            Ok("MINZHENG_SHARE_PUBLIC_SECURITY".to_owned())
        );
        assert_eq!(
            production.agency_subjects("tax"),
            Ok("share.tax.>".to_owned())
        );
        assert_eq!(
            production.subject("tax", "Odd"),
            Ok("share.tax.other.odd".to_owned())
        );
        // An agency code that is not a token never reaches a subject.
        assert!(production.subject("tax.>", "x.y.v1.Z").is_err());
        assert!(production.agency_stream("Tax").is_err());
        let test = ShareNaming::with_prefix("t42").expect("valid naming");
        assert_eq!(test.stream_subjects(), "t42_share.>");
        assert_eq!(test.stream_name(), "T42_SHARE");
    }

    #[test]
    fn event_token_keeps_the_whole_name_when_the_category_is_not_a_prefix() {
        assert_eq!(
            event_token("widget", "x.v1.BoundaryChanged"),
            "boundary_changed"
        );
        // A category that only matches part of a word is not a prefix.
        assert_eq!(event_token("wid", "x.v1.WidgetRenamed"), "widget_renamed");
        // A message named exactly like the category keeps its name.
        assert_eq!(event_token("widget", "x.v1.Widget"), "widget");
        assert_eq!(
            event_token("case", "x.v1.HTTPCaseOpened"),
            "http_case_opened"
        );
        assert_eq!(event_token("case", "CaseOpened"), "opened");
        assert_eq!(event_token("case", ""), "event");
    }

    #[test]
    fn prefixes_make_disjoint_streams() {
        let a = BusNaming::with_prefix("tab12", "widgets").expect("valid naming");
        assert_eq!(a.stream_name(), "TAB12_WIDGETS");
        assert_eq!(a.stream_subjects(), "tab12.widgets.>");
        assert_eq!(a.deadletter_stream(), "TAB12_DEADLETTER");
        assert_eq!(a.category_subjects("widget"), "tab12.widgets.widget.>");
    }

    #[test]
    fn invalid_names_are_refused() {
        assert!(BusNaming::new("Place.Names").is_err());
        assert!(BusNaming::with_prefix("a.b", "widgets").is_err());
        assert!(BusNaming::new("").is_err());
        assert!(ConsumerName::parse("with.dot").is_err());
        assert!(ConsumerName::parse("Upper").is_err());
        assert!(ConsumerName::parse("ok-name_1").is_ok());
    }
}
