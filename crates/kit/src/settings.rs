//! Typed settings, layered the same way for every process: built-in defaults, then an optional
//! TOML file named by `MZ_CONFIG`, then `MZ_`-prefixed environment variables.
//!
//! Environment names are the field names in upper case after `MZ_`: `MZ_DATABASE_URL`,
//! `MZ_NATS_URL`, `MZ_LISTEN`, `MZ_OTLP_ENDPOINT`, `MZ_LOG_FORMAT`, `MZ_DATA_DIR`. Nested tables
//! are separated by a **double underscore**: `MZ_AUTH__DEV_SECRET` sets `auth.dev_secret`,
//! `MZ_AUTH__ISSUER` sets `auth.issuer`. In the TOML file the same keys are written as usual
//! (`listen = "0.0.0.0:50051"`, `[auth]` with `issuer = "…"`).
//!
//! A service embeds [`PlatformSettings`] in its own struct with `#[serde(flatten)]` and calls
//! [`load`] for that struct, so its own keys layer the same way. A bad value fails start-up with
//! an error naming the key and where the value came from.
//!
//! This module deliberately knows nothing of what a service does with the values: it does not
//! connect to databases or read key files, and it never prints a secret (secrets are
//! [`SecretString`], whose `Debug` is redacted).

use std::{
    net::{Ipv4Addr, SocketAddr, SocketAddrV4},
    path::PathBuf,
    time::Duration,
};

use figment::{
    Figment, Metadata, Profile, Provider,
    providers::{Format, Toml},
    value::{Dict, Map, Value},
};
use minzheng_telemetry::{LogFormat, TelemetryConfig};
use secrecy::SecretString;
use serde::{Deserialize, Deserializer, de::DeserializeOwned};

/// Environment variable naming the optional TOML settings file.
pub const CONFIG_ENV: &str = "MZ_CONFIG";
/// Prefix of every settings environment variable.
pub const ENV_PREFIX: &str = "MZ_";
/// Separator between nested keys in environment variable names (`MZ_AUTH__ISSUER`).
pub const ENV_NESTING_SEPARATOR: &str = "__";

/// Default gRPC listen address.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 50051));

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// `MZ_CONFIG` names a file that does not exist; a missing file is never silently ignored
    /// because the operator evidently meant it to be read.
    #[error("settings file {path} (from {CONFIG_ENV}) does not exist")]
    MissingFile { path: PathBuf },
    /// A value is missing or has the wrong form. The message names the key and its source
    /// (file or environment variable).
    #[error("invalid settings: {0}")]
    Invalid(String),
}

/// Loads `T` from defaults (its `serde` defaults), the TOML file named by `MZ_CONFIG` if set, and
/// `MZ_`-prefixed environment variables, later layers overriding earlier ones.
pub fn load<T: DeserializeOwned>() -> Result<T, SettingsError> {
    // Variables that are not UTF-8 cannot be ours: every name we read is ASCII.
    load_from(
        std::env::vars_os().filter_map(|(name, value)| {
            Some((name.into_string().ok()?, value.into_string().ok()?))
        }),
    )
}

/// [`load`] with the environment given explicitly, for tests and tools that must not depend on
/// (or change) the process environment.
pub fn load_from<T, I, K, V>(environment: I) -> Result<T, SettingsError>
where
    T: DeserializeOwned,
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    extract(&layered(environment)?)
}

/// [`load_section_from`] with the process environment.
pub fn load_section<T: DeserializeOwned>(section: &str) -> Result<T, SettingsError> {
    load_section_from(
        std::env::vars_os().filter_map(|(name, value)| {
            Some((name.into_string().ok()?, value.into_string().ok()?))
        }),
        section,
    )
}

/// A service's own settings: the table `[<section>]` of the settings file and the variables
/// `MZ_<SECTION>__<KEY>` (e.g. `MZ_CIVILREGISTRY__PSEUDONYM_KEY`), layered as [`load`] layers the
/// platform's. Keys the section does not set take `T`'s serde defaults.
pub fn load_section_from<T, I, K, V>(environment: I, section: &str) -> Result<T, SettingsError>
where
    T: DeserializeOwned,
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    extract(&layered(environment)?.focus(section))
}

/// The layered sources: the file named by `MZ_CONFIG`, then the `MZ_` variables.
fn layered<I, K, V>(environment: I) -> Result<Figment, SettingsError>
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    let mut config = None;
    let mut vars = Vec::new();
    for (name, value) in environment {
        let (name, value) = (name.into(), value.into());
        if name == CONFIG_ENV {
            config = Some(PathBuf::from(value));
        } else if let Some(rest) = name.strip_prefix(ENV_PREFIX)
            && !rest.is_empty()
        {
            let key = rest
                .to_ascii_lowercase()
                .replace(ENV_NESTING_SEPARATOR, ".");
            vars.push(EnvVar { name, key, value });
        }
    }
    // A stable order makes the layering independent of the environment's order.
    vars.sort_by(|a, b| a.name.cmp(&b.name));

    let mut figment = Figment::new();
    if let Some(path) = config.filter(|p| !p.as_os_str().is_empty()) {
        if !path.is_file() {
            return Err(SettingsError::MissingFile { path });
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    for var in vars {
        figment = figment.merge(var);
    }
    Ok(figment)
}

/// Extracts `T` from an explicitly built [`Figment`], for tools and tests that layer their own
/// sources; errors read like those of [`load`]. Strings convert to numbers and booleans where the
/// target field wants one, as environment values are always strings.
pub fn extract<T: DeserializeOwned>(figment: &Figment) -> Result<T, SettingsError> {
    figment.extract_lossy().map_err(|errors| {
        // Figment collects every error; each line names a key and the source of its value.
        let lines: Vec<String> = errors.into_iter().map(|e| e.to_string()).collect();
        SettingsError::Invalid(lines.join("; "))
    })
}

/// One environment variable as a figment source.
///
/// figment's own `Env` provider parses values (`007` becomes the integer 7), which would
/// silently change a secret made of digits; this one keeps the exact string and leaves the
/// conversion to the field's type (see [`extract`]). Naming the variable in the metadata makes
/// errors say which variable held the bad value.
struct EnvVar {
    name: String,
    key: String,
    value: String,
}

impl Provider for EnvVar {
    fn metadata(&self) -> Metadata {
        Metadata::named(format!("environment variable {}", self.name))
            .interpolater(|_profile: &Profile, keys: &[&str]| keys.join("."))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let dict = figment::util::nest(&self.key, Value::from(self.value.clone()))
            .into_dict()
            .ok_or_else(|| figment::Error::from(format!("{} names no key", self.name)))?;
        Ok(Map::from([(Profile::Default, dict)]))
    }
}

/// The settings every service process needs. Embed with `#[serde(flatten)]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct PlatformSettings {
    /// gRPC listen address (`MZ_LISTEN`); port 0 picks a free port.
    pub listen: SocketAddr,
    /// Event store URL (`MZ_DATABASE_URL`): `postgres://…` or `sqlite://…`. It may hold a
    /// password, so it is a secret. `None` means the embedded default, a SQLite file under
    /// `data_dir` (see [`PlatformSettings::database_url_or_embedded`]).
    #[serde(deserialize_with = "optional_secret")]
    pub database_url: Option<SecretString>,
    /// How long a call waits for a database connection, opening one included, before it fails
    /// as UNAVAILABLE, in milliseconds (`MZ_DATABASE_ACQUIRE_TIMEOUT_MS`). One setting for every
    /// pool a process opens: the event stores, the consumers' and projections' databases, the
    /// read audit (which writes through the store).
    #[serde(deserialize_with = "positive_whole_number")]
    pub database_acquire_timeout_ms: u64,
    /// NATS server (`MZ_NATS_URL`); `None` runs without a bus (embedded mode).
    #[serde(deserialize_with = "optional_text")]
    pub nats_url: Option<String>,
    /// The NATS user the process logs in as (`MZ_NATS_USER`; the service's name under the
    /// shipped accounts, `deploy/nats`); `None` logs in anonymously.
    #[serde(deserialize_with = "optional_text")]
    pub nats_user: Option<String>,
    /// That user's password (`MZ_NATS_PASSWORD`).
    #[serde(deserialize_with = "optional_secret")]
    pub nats_password: Option<SecretString>,
    /// OTLP/gRPC collector (`MZ_OTLP_ENDPOINT`); `None` exports no telemetry.
    #[serde(deserialize_with = "optional_text")]
    pub otlp_endpoint: Option<String>,
    /// Where the Prometheus scrape endpoint (`GET /metrics`) listens (`MZ_METRICS_LISTEN`, e.g.
    /// `0.0.0.0:9464`); empty or unset serves none.
    #[serde(deserialize_with = "optional_socket_addr")]
    pub metrics_listen: Option<SocketAddr>,
    /// `text` or `json` (`MZ_LOG_FORMAT`).
    #[serde(deserialize_with = "log_format")]
    pub log_format: LogFormat,
    /// Log filter used when `RUST_LOG` is unset (`MZ_LOG_FILTER`).
    pub log_filter: String,
    /// Where embedded-mode files live (`MZ_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Bearer-token verification (`MZ_AUTH__…`).
    pub auth: AuthSettings,
    /// How often the outbox relay polls the store for new events, in milliseconds
    /// (`MZ_RELAY_POLL_MS`).
    #[serde(deserialize_with = "whole_number")]
    pub relay_poll_ms: u64,
    /// How long the outbox relay may keep failing before the service reports NOT_SERVING, in
    /// seconds (`MZ_RELAY_UNREADY_AFTER_SECS`).
    #[serde(deserialize_with = "whole_number")]
    pub relay_unready_after_secs: u64,
    /// How the service's JetStream stream is set up (`MZ_STREAM__…`).
    pub stream: StreamOptions,
    /// How long a graceful shutdown waits for in-flight calls before giving up, in seconds
    /// (`MZ_SHUTDOWN_TIMEOUT_SECS`).
    #[serde(deserialize_with = "whole_number")]
    pub shutdown_timeout_secs: u64,
}

impl Default for PlatformSettings {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN,
            database_url: None,
            database_acquire_timeout_ms: u64::try_from(
                minzheng_eventstore::DEFAULT_ACQUIRE_TIMEOUT.as_millis(),
            )
            .unwrap_or(u64::MAX),
            nats_url: None,
            nats_user: None,
            nats_password: None,
            otlp_endpoint: None,
            metrics_listen: None,
            log_format: LogFormat::Text,
            log_filter: "info".to_owned(),
            data_dir: PathBuf::from("./data"),
            auth: AuthSettings::default(),
            relay_poll_ms: 100,
            relay_unready_after_secs: 10,
            stream: StreamOptions::default(),
            shutdown_timeout_secs: 30,
        }
    }
}

impl PlatformSettings {
    /// Loads platform settings alone (for tools that need nothing else).
    pub fn load() -> Result<Self, SettingsError> {
        load()
    }

    /// The configured store URL, or a SQLite file `<data_dir>/<name>.db` created on first use.
    pub fn database_url_or_embedded(&self, name: &str) -> SecretString {
        match &self.database_url {
            Some(url) => url.clone(),
            None => SecretString::from(format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join(format!("{name}.db")).display()
            )),
        }
    }

    /// See [`PlatformSettings::database_acquire_timeout_ms`].
    pub fn database_acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.database_acquire_timeout_ms)
    }

    pub fn relay_poll_interval(&self) -> Duration {
        Duration::from_millis(self.relay_poll_ms)
    }

    pub fn relay_unready_after(&self) -> Duration {
        Duration::from_secs(self.relay_unready_after_secs)
    }

    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }

    /// What `minzheng_telemetry::init` needs for this process.
    pub fn telemetry(&self, service_name: &str) -> TelemetryConfig {
        TelemetryConfig {
            service_name: service_name.to_owned(),
            otlp_endpoint: self.otlp_endpoint.clone(),
            log_format: self.log_format,
            default_filter: self.log_filter.clone(),
            metrics_listen: self.metrics_listen,
        }
    }
}

/// Default token issuer and audience; development tokens minted by `minzheng token` use them.
pub const DEFAULT_ISSUER: &str = "minzheng";
pub const DEFAULT_AUDIENCE: &str = "minzheng";

/// How a service's JetStream stream is set up (`MZ_STREAM__…`). The duplicate window is the
/// platform's and is ensured at every start; the limits and replicas are used when the stream is
/// created, and an existing stream keeps what the operator set on the server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct StreamOptions {
    /// JetStream's duplicate window, in seconds (`MZ_STREAM__DUPLICATE_WINDOW_SECS`).
    #[serde(deserialize_with = "whole_number")]
    pub duplicate_window_secs: u64,
    /// Oldest event a new stream keeps, in seconds (`MZ_STREAM__MAX_AGE_SECS`); unset keeps
    /// events until another limit applies.
    #[serde(deserialize_with = "optional_whole_number")]
    pub max_age_secs: Option<u64>,
    /// Most bytes a new stream keeps (`MZ_STREAM__MAX_BYTES`); unset is unlimited.
    #[serde(deserialize_with = "optional_whole_number")]
    pub max_bytes: Option<u64>,
    /// Replicas of a new stream in a JetStream cluster (`MZ_STREAM__REPLICAS`); unset is 1.
    #[serde(deserialize_with = "optional_whole_number")]
    pub replicas: Option<u64>,
}

impl Default for StreamOptions {
    fn default() -> Self {
        Self {
            duplicate_window_secs: 120,
            max_age_secs: None,
            max_bytes: None,
            replicas: None,
        }
    }
}

/// How bearer tokens are verified (`MZ_AUTH__…`). At least one key source must be set for a
/// server to start; see `crate::auth::Authenticator::from_settings`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// Required `iss` claim (`MZ_AUTH__ISSUER`).
    pub issuer: String,
    /// Required `aud` claim (`MZ_AUTH__AUDIENCE`).
    pub audience: String,
    /// HS256 shared secret, for development and the embedded mode only
    /// (`MZ_AUTH__DEV_SECRET`).
    #[serde(deserialize_with = "optional_secret")]
    pub dev_secret: Option<SecretString>,
    /// PEM file with one or more RSA or Ed25519 public keys (`MZ_AUTH__PUBLIC_KEY_FILE`); several
    /// keys allow rotation.
    #[serde(deserialize_with = "optional_text")]
    pub public_key_file: Option<PathBuf>,
    /// The same as inline PEM text (`MZ_AUTH__PUBLIC_KEYS_PEM`), e.g. from a Kubernetes secret.
    #[serde(deserialize_with = "optional_text")]
    pub public_keys_pem: Option<String>,
    /// Allowed clock skew when checking `exp`, in seconds (`MZ_AUTH__LEEWAY_SECS`).
    #[serde(deserialize_with = "whole_number")]
    pub leeway_secs: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            issuer: DEFAULT_ISSUER.to_owned(),
            audience: DEFAULT_AUDIENCE.to_owned(),
            dev_secret: None,
            public_key_file: None,
            public_keys_pem: None,
            leeway_secs: 30,
        }
    }
}

// Field deserializers.
//
// Environment values reach `PlatformSettings` as strings. `extract` converts strings to numbers
// for the top-level struct, but a service embeds these settings with `#[serde(flatten)]`, and
// serde buffers flattened fields without their target types, so that conversion never happens
// for them: the fields below accept both forms themselves. Empty strings (common in Kubernetes
// manifests that template optional values) mean "not set".

fn whole_number<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct WholeNumber;
    impl serde::de::Visitor<'_> for WholeNumber {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole number")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom(format!("expected a whole number, found {v}")))
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<u64, E> {
            v.trim()
                .parse()
                .map_err(|_| E::custom(format!("expected a whole number, found {v:?}")))
        }
    }
    d.deserialize_any(WholeNumber)
}

fn optional_whole_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(u64),
        Text(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Number(n)) => Ok(Some(n)),
        Some(Raw::Text(t)) if t.trim().is_empty() => Ok(None),
        Some(Raw::Text(t)) => {
            t.trim().parse().map(Some).map_err(|_| {
                serde::de::Error::custom(format!("expected a whole number, found {t:?}"))
            })
        }
    }
}

/// A [`whole_number`] above zero: a wait of zero would fail every call.
fn positive_whole_number<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match whole_number(d)? {
        0 => Err(serde::de::Error::custom(
            "expected a whole number above 0, found 0",
        )),
        n => Ok(n),
    }
}

fn optional_text<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: From<String>,
{
    let text: Option<String> = Option::deserialize(d)?;
    Ok(text.filter(|t| !t.trim().is_empty()).map(T::from))
}

fn optional_socket_addr<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    text.filter(|t| !t.trim().is_empty())
        .map(|t| {
            t.trim().parse().map_err(|_| {
                serde::de::Error::custom(format!(
                    "{t:?} is not a socket address (host:port, e.g. 0.0.0.0:9464)"
                ))
            })
        })
        .transpose()
}

fn optional_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    Ok(text.filter(|t| !t.is_empty()).map(SecretString::from))
}

fn log_format<'de, D: Deserializer<'de>>(d: D) -> Result<LogFormat, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map_err(serde::de::Error::custom)
}
