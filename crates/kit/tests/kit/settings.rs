//! Settings: defaults, then the `MZ_CONFIG` file, then `MZ_` variables; bad values name their
//! key; secrets do not print. The environment is passed explicitly (`load_from`), so the tests
//! neither read nor change the process environment and run in parallel.

use std::{io::Write, net::SocketAddr, path::PathBuf};

use minzheng_kit::settings::{self, PlatformSettings, SettingsError};
use minzheng_telemetry::LogFormat;
use secrecy::ExposeSecret;
use serde::Deserialize;

fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn settings_file(contents: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .suffix(".toml")
        .tempfile()
        .expect("temporary settings file");
    file.write_all(contents.as_bytes()).expect("write settings");
    file
}

#[test]
fn defaults_apply_without_file_or_environment() {
    // Unrelated variables, with and without the prefix, change nothing.
    let s: PlatformSettings =
        settings::load_from(env(&[("PATH", "/bin"), ("MZ_TEST_DATABASE_URL", "x")]))
            .expect("defaults load");
    assert_eq!(s.listen, "127.0.0.1:50051".parse::<SocketAddr>().unwrap());
    assert!(s.database_url.is_none());
    assert!(s.nats_url.is_none());
    assert!(s.otlp_endpoint.is_none());
    assert_eq!(s.log_format, LogFormat::Text);
    assert_eq!(s.data_dir, PathBuf::from("./data"));
    assert_eq!(s.auth.issuer, "minzheng");
    assert!(s.auth.dev_secret.is_none());
    assert_eq!(
        s.database_acquire_timeout(),
        std::time::Duration::from_secs(5)
    );
    assert_eq!(
        s.database_url_or_embedded("placenames").expose_secret(),
        "sqlite://./data/placenames.db?mode=rwc"
    );
}

#[test]
fn environment_overrides_the_file_which_overrides_defaults() {
    let file = settings_file(
        r#"
            listen = "0.0.0.0:9000"
            nats_url = "nats://file:4222"
            log_format = "json"
            relay_poll_ms = 250
            [auth]
            issuer = "file-issuer"
            audience = "file-audience"
        "#,
    );
    let path = file.path().display().to_string();
    let s: PlatformSettings = settings::load_from(env(&[
        ("MZ_CONFIG", &path),
        ("MZ_LISTEN", "127.0.0.1:0"),
        ("MZ_AUTH__ISSUER", "env-issuer"),
        // Digits with leading zeros must reach a secret unchanged, not as the number 7.
        ("MZ_AUTH__DEV_SECRET", "0000000000000000000000000000000007"),
        ("MZ_SHUTDOWN_TIMEOUT_SECS", "5"),
        // Empty means unset, as Kubernetes templates often leave optional values.
        ("MZ_OTLP_ENDPOINT", ""),
    ]))
    .expect("layered settings load");
    assert_eq!(s.listen.port(), 0, "environment wins over the file");
    assert_eq!(
        s.nats_url.as_deref(),
        Some("nats://file:4222"),
        "file wins over defaults"
    );
    assert_eq!(s.log_format, LogFormat::Json);
    assert_eq!(s.relay_poll_ms, 250);
    assert_eq!(s.shutdown_timeout_secs, 5);
    assert_eq!(
        s.auth.issuer, "env-issuer",
        "nested key from MZ_AUTH__ISSUER"
    );
    assert_eq!(s.auth.audience, "file-audience");
    assert!(s.otlp_endpoint.is_none());
    assert_eq!(
        s.auth
            .dev_secret
            .as_ref()
            .map(|s| s.expose_secret().to_owned()),
        Some("0000000000000000000000000000000007".to_owned())
    );
}

/// A service's own settings, embedding the platform's as every service does.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct ServiceSettings {
    #[serde(flatten)]
    platform: PlatformSettings,
    verification_timeout_secs: u64,
    region_root: String,
}

#[test]
fn a_service_struct_layers_its_own_keys_with_the_platform_ones() {
    let s: ServiceSettings = settings::load_from(env(&[
        ("MZ_VERIFICATION_TIMEOUT_SECS", "12"),
        ("MZ_REGION_ROOT", "210000000000"),
        ("MZ_LISTEN", "127.0.0.1:7000"),
        ("MZ_RELAY_POLL_MS", "40"),
        ("MZ_DATABASE_ACQUIRE_TIMEOUT_MS", "1500"),
        ("MZ_AUTH__LEEWAY_SECS", "3"),
        ("MZ_NATS_URL", "nats://127.0.0.1:4222"),
    ]))
    .expect("service settings load");
    assert_eq!(s.verification_timeout_secs, 12);
    assert_eq!(s.region_root, "210000000000", "digit strings stay strings");
    assert_eq!(s.platform.listen.port(), 7000);
    assert_eq!(
        s.platform.relay_poll_ms, 40,
        "numbers reach flattened fields"
    );
    assert_eq!(
        s.platform.database_acquire_timeout(),
        std::time::Duration::from_millis(1500)
    );
    assert_eq!(s.platform.auth.leeway_secs, 3);
    assert_eq!(
        s.platform.nats_url.as_deref(),
        Some("nats://127.0.0.1:4222")
    );
}

#[test]
fn a_bad_value_names_its_key_and_variable() {
    let message =
        settings::load_from::<PlatformSettings, _, _, _>(env(&[("MZ_LISTEN", "not-an-address")]))
            .expect_err("bad listen address")
            .to_string();
    assert!(message.contains("listen"), "names the key: {message}");
    assert!(
        message.contains("MZ_LISTEN"),
        "names the variable: {message}"
    );

    let message =
        settings::load_from::<PlatformSettings, _, _, _>(env(&[("MZ_LOG_FORMAT", "yaml")]))
            .expect_err("bad log format")
            .to_string();
    assert!(
        message.contains("log_format") && message.contains("MZ_LOG_FORMAT"),
        "{message}"
    );

    let message =
        settings::load_from::<PlatformSettings, _, _, _>(env(&[("MZ_RELAY_POLL_MS", "soon")]))
            .expect_err("bad number")
            .to_string();
    assert!(
        message.contains("relay_poll_ms") && message.contains("MZ_RELAY_POLL_MS"),
        "{message}"
    );

    let message = settings::load_from::<PlatformSettings, _, _, _>(env(&[(
        "MZ_DATABASE_ACQUIRE_TIMEOUT_MS",
        "0",
    )]))
    .expect_err("a zero wait fails every call")
    .to_string();
    assert!(
        message.contains("database_acquire_timeout_ms") && message.contains("above 0"),
        "{message}"
    );

    let file = settings_file("listen = 42");
    let path = file.path().display().to_string();
    let message = settings::load_from::<PlatformSettings, _, _, _>(env(&[("MZ_CONFIG", &path)]))
        .expect_err("bad value in the file")
        .to_string();
    assert!(
        message.contains("listen") && message.contains(&path),
        "names the key and the file: {message}"
    );
}

#[test]
fn a_missing_settings_file_is_an_error() {
    match settings::load_from::<PlatformSettings, _, _, _>(env(&[(
        "MZ_CONFIG",
        "/nonexistent/minzheng.toml",
    )])) {
        Err(SettingsError::MissingFile { path }) => {
            assert_eq!(path, PathBuf::from("/nonexistent/minzheng.toml"));
        }
        other => panic!("expected MissingFile, got {other:?}"),
    }
}

#[test]
fn debug_output_never_shows_secrets() {
    let s: PlatformSettings = settings::load_from(env(&[
        (
            "MZ_DATABASE_URL",
            "postgres://svc:hunter2-password@db:5432/minzheng",
        ),
        (
            "MZ_AUTH__DEV_SECRET",
            "dev-secret-that-must-not-print-0123456789",
        ),
    ]))
    .expect("settings load");
    let printed = format!("{s:?} {s:#?}");
    assert!(
        !printed.contains("hunter2"),
        "database password printed: {printed}"
    );
    assert!(
        !printed.contains("must-not-print"),
        "secret printed: {printed}"
    );
    assert_eq!(
        s.database_url
            .as_ref()
            .map(|u| u.expose_secret().to_owned()),
        Some("postgres://svc:hunter2-password@db:5432/minzheng".to_owned()),
        "the value itself is intact"
    );
}

/// A service's own section, as the civil registry's pseudonym key is kept.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ServiceSection {
    key: Option<String>,
    per_day: u32,
}

#[test]
fn a_service_section_layers_like_the_platform_settings() {
    let file = settings_file(
        r#"
            listen = "0.0.0.0:9000"
            [widgets]
            key = "from-file"
            per_day = 3
        "#,
    );
    let path = file.path().display().to_string();
    let section: ServiceSection = settings::load_section_from(
        env(&[("MZ_CONFIG", &path), ("MZ_WIDGETS__KEY", "from-env")]),
        "widgets",
    )
    .expect("the section loads");
    assert_eq!(section.key.as_deref(), Some("from-env"));
    assert_eq!(section.per_day, 3);
    // Another service's section is not this one's, and the platform's keys are not in it.
    let other: ServiceSection =
        settings::load_section_from(env(&[("MZ_CONFIG", &path)]), "gadgets").expect("defaults");
    assert!(other.key.is_none() && other.per_day == 0);
    let error = settings::load_section_from::<ServiceSection, _, _, _>(
        env(&[("MZ_WIDGETS__PER_DAY", "many")]),
        "widgets",
    )
    .expect_err("not a number");
    assert!(error.to_string().contains("MZ_WIDGETS__PER_DAY"), "{error}");
    // The platform settings ignore the sections.
    let platform: PlatformSettings =
        settings::load_from(env(&[("MZ_CONFIG", &path)])).expect("platform loads");
    assert_eq!(
        platform.listen,
        "0.0.0.0:9000".parse::<SocketAddr>().unwrap()
    );
}
