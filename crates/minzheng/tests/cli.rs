//! The real `minzheng` binary, as a newcomer runs it: `minzheng dev` serves gRPC with health,
//! reflection and the platform service, and accepts the token it prints and tokens from
//! `minzheng token`; bad arguments fail with one clear line.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
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

#[test]
fn bad_arguments_fail_with_one_clear_line() {
    for (args, expected) in [
        (
            vec!["token", "--role", "nobody", "--region", "210502001000"],
            "unknown role",
        ),
        (
            vec!["token", "--role", "caseworker", "--region", "2105"],
            "--region",
        ),
        (vec!["no-such-service"], "no service called"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let output = Command::new(BIN)
            .args(&args)
            .env("MZ_DATA_DIR", dir.path())
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?} must fail");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("Stack backtrace"),
            "{args:?} printed a backtrace: {stderr}"
        );
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
