//! The real `minzheng` binary, as a newcomer runs it: `minzheng dev` serves gRPC with health,
//! reflection and the platform service, and accepts the token it prints and tokens from
//! `minzheng token`; the help lists every service and tool; usage errors exit 2 with the usage,
//! failures exit 1 with one line naming each cause once.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Output, Stdio},
    time::Duration,
};

use minzheng_proto::platform::v1::{
    GetInfoRequest, platform_service_client::PlatformServiceClient,
};
use tonic::{Code, Request};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const BIN: &str = env!("CARGO_BIN_EXE_minzheng");

/// A `minzheng dev` process, killed on drop.
struct Dev {
    child: Child,
    addr: String,
    token: String,
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_dev(data_dir: &std::path::Path) -> Dev {
    let mut child = Command::new(BIN)
        .args(["dev", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env_remove("MZ_DATABASE_URL")
        .env_remove("MZ_NATS_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start minzheng dev");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a banner line").unwrap();
    let addr = first
        .split_whitespace()
        .find(|w| w.starts_with("127.0.0.1:"))
        .expect("the banner names the address")
        .trim_end_matches(',')
        .to_owned();
    let _explanation = lines.next();
    let token = lines.next().expect("a token line").unwrap();
    // Keep draining standard output, as a terminal would.
    std::thread::spawn(move || lines.for_each(drop));
    Dev { child, addr, token }
}

fn with_token<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

#[tokio::test]
async fn dev_serves_health_and_platform_and_accepts_its_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let dev = start_dev(dir.path());
    let endpoint = format!("http://{}", dev.addr);

    let channel = tonic::transport::Channel::from_shared(endpoint.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    let serving = health
        .check(HealthCheckRequest {
            service: "minzheng.platform.v1.PlatformService".into(),
        })
        .await
        .expect("health answers")
        .into_inner();
    assert_eq!(serving.status, 1, "SERVING");

    let mut platform = PlatformServiceClient::connect(endpoint).await.unwrap();
    let info = platform
        .get_info(with_token(GetInfoRequest {}, &dev.token))
        .await
        .expect("the printed token is accepted")
        .into_inner();
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));

    // A token minted by `minzheng token` against the same data directory is accepted too.
    let minted = Command::new(BIN)
        .args([
            "token",
            "--role",
            "caseworker",
            "--region",
            "210502001000",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(minted.status.success());
    let minted = String::from_utf8(minted.stdout).unwrap().trim().to_owned();
    platform
        .get_info(with_token(GetInfoRequest {}, &minted))
        .await
        .expect("a minted token is accepted");

    let refused = platform
        .get_info(with_token(GetInfoRequest {}, "forged.token.value"))
        .await
        .expect_err("a forged token is refused");
    assert_eq!(refused.code(), Code::Unauthenticated);
}

/// `minzheng` with `args` and none of the developer's `MZ_*` settings, run to its end.
fn minzheng(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).env("RUST_BACKTRACE", "1");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("MZ_") {
            command.env_remove(name);
        }
    }
    command
        .envs(env.iter().copied())
        .output()
        .expect("run minzheng")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("UTF-8 output")
}

/// The one line `minzheng` prints for a failure at run time.
fn failure_line(output: &Output) -> String {
    let stderr = stderr(output);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("minzheng: "))
        .collect();
    assert_eq!(lines.len(), 1, "one failure line: {stderr}");
    lines[0].to_owned()
}

#[test]
fn help_lists_every_service_and_every_tool_on_one_line_each() {
    let output = minzheng(&["--help"], &[]);
    assert_eq!(output.status.code(), Some(0));
    let help = stdout(&output);
    for (name, about) in [
        ("placenames", "place names"),
        ("civilregistry", "Marriage and divorce registration"),
        ("dev", "Runs every service in one process"),
        ("token", "Mints a development bearer token"),
        ("placenames import", "Imports a CSV file of divisions"),
    ] {
        let entry = help
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("{name}  ")))
            .unwrap_or_else(|| panic!("{name} is not listed: {help}"));
        assert!(entry.contains(about), "{name}: {entry}");
    }
}

#[test]
fn a_services_help_exits_0_and_names_the_environment_it_needs_and_its_tools() {
    for (service, own) in [
        ("placenames", &["import"][..]),
        ("civilregistry", &["MZ_CIVILREGISTRY__PSEUDONYM_KEY"][..]),
    ] {
        for flag in ["--help", "-h"] {
            let output = minzheng(&[service, flag], &[]);
            assert_eq!(output.status.code(), Some(0), "{service} {flag}");
            let help = stdout(&output);
            for expected in [
                "MZ_DATABASE_URL",
                "MZ_DATABASE_ACQUIRE_TIMEOUT_MS",
                "MZ_NATS_URL",
                "MZ_LISTEN",
                "MZ_AUTH__",
            ]
            .iter()
            .chain(own)
            {
                assert!(help.contains(expected), "{service} {flag}: {help}");
            }
        }
    }
    // A variable one service needs is not claimed by another.
    let placenames = stdout(&minzheng(&["placenames", "--help"], &[]));
    assert!(
        !placenames.contains("MZ_CIVILREGISTRY__PSEUDONYM_KEY"),
        "{placenames}"
    );
}

#[test]
fn every_tools_help_says_who_may_run_it() {
    for (tool, expected) in [
        (
            &["placenames", "import", "--help"][..],
            &[
                "operator token",
                "contains every row",
                "province-scoped",
                "MZ_TOKEN",
            ][..],
        ),
        (&["token", "--help"][..], &["Access: needs no token"][..]),
        (
            &["nats-config", "--help"][..],
            &["Access: needs no token", "MZ_NATS_PASSWORD_<USER>"][..],
        ),
        (&["dev", "--help"][..], &["Access: needs no token"][..]),
    ] {
        let output = minzheng(tool, &[]);
        assert_eq!(output.status.code(), Some(0), "{tool:?}");
        let help = stdout(&output);
        for expected in expected {
            assert!(help.contains(expected), "{tool:?}: {help}");
        }
    }
}

#[test]
fn usage_errors_exit_2_with_a_clear_message() {
    for (args, expected) in [
        (
            vec!["no-such-service"],
            &[
                "no service or tool called \"no-such-service\"",
                "placenames",
                "civilregistry",
            ][..],
        ),
        (
            vec!["token", "--role", "nobody", "--region", "210502001000"],
            &["unknown role"][..],
        ),
        (
            vec!["token", "--role", "caseworker", "--region", "2105"],
            &["--region", "12 digits"][..],
        ),
        (
            vec![
                "token",
                "--role",
                "caseworker",
                "--region",
                "210502001000",
                "--ttl",
                "5w",
            ],
            &["--ttl", "the unit must be"][..],
        ),
        (vec!["dev", "--token-region", "21"], &["--token-region"][..]),
        (
            vec!["nats-config", "--agency", "health.>"],
            &["--agency", "lowercase ASCII letters"][..],
        ),
        (vec!["civilregistry", "extra"], &["'extra'"][..]),
        (vec!["placenames", "no-such-tool"], &["'no-such-tool'"][..]),
        (
            vec![
                "placenames",
                "import",
                "f.csv",
                "--valid-from",
                "2023-02-30",
            ],
            &["--valid-from"][..],
        ),
        (vec![], &["Usage:"][..]),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().to_str().unwrap();
        let output = minzheng(&args, &[("MZ_DATA_DIR", data_dir)]);
        let stderr = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        for expected in expected {
            assert!(stderr.contains(expected), "{args:?}: {stderr}");
        }
        assert!(
            !stderr.contains("Stack backtrace"),
            "{args:?} printed a backtrace: {stderr}"
        );
    }
}

#[test]
fn a_database_url_of_another_database_is_refused_naming_the_supported_schemes() {
    let nats = minzheng_testkit::nats_url();
    for (url, scheme) in [
        (
            "mysql://registrar:hunter2secret@db.example/minzheng",
            "mysql",
        ),
        ("http://registrar:hunter2secret@db.example/minzheng", "http"),
    ] {
        let output = minzheng(
            &["placenames"],
            &[
                ("MZ_DATABASE_URL", url),
                ("MZ_NATS_URL", &nats),
                ("MZ_LISTEN", "127.0.0.1:0"),
                (
                    "MZ_AUTH__DEV_SECRET",
                    "a-development-secret-of-32-bytes-or-more",
                ),
                ("RUST_LOG", "warn"),
            ],
        );
        let stderr = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{url}: {stderr}");
        let line = failure_line(&output);
        assert!(
            line.contains(&format!("unsupported database URL scheme {scheme:?}")),
            "{line}"
        );
        assert!(
            line.contains("postgres://, postgresql://, sqlite:"),
            "{line}"
        );
        assert!(!stderr.contains("hunter2secret"), "{url}: {stderr}");
    }
}

#[test]
fn a_failure_prints_each_of_its_causes_once() {
    // A SQLite file in a directory that does not exist, without `mode=rwc`: SQLite cannot open
    // it. The store's error and sqlx's both repeat their source in their own message.
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}",
        dir.path().join("missing").join("placenames.db").display()
    );
    let data_dir = dir.path().to_str().unwrap();
    let output = minzheng(
        &["dev", "--listen", "127.0.0.1:0", "--data-dir", data_dir],
        &[("MZ_DATABASE_URL", &url), ("RUST_LOG", "off")],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let line = failure_line(&output);
    for cause in [
        "opening the placenames event store",
        "event store unavailable",
        "error returned from database",
        "unable to open database file",
    ] {
        assert_eq!(line.matches(cause).count(), 1, "{cause:?} in {line}");
    }
}

#[test]
fn dev_shuts_down_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut dev = start_dev(dir.path());
    let pid = dev.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = dev.child.try_wait().unwrap() {
            assert!(status.success(), "graceful shutdown exits 0, got {status}");
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
