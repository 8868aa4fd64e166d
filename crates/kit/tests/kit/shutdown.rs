//! Signals become a cancelled token.

use std::time::Duration;

use minzheng_kit::shutdown::cancel_on_signal;
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn sigterm_cancels_the_token() {
    let token = CancellationToken::new();
    // The handler is installed before `cancel_on_signal` returns, so the signal below is
    // caught rather than terminating the test process.
    let _listener = cancel_on_signal(token.clone()).expect("signal handlers install");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill failed: {status}");
    tokio::time::timeout(Duration::from_secs(10), token.cancelled())
        .await
        .expect("SIGTERM cancels the token");
}
