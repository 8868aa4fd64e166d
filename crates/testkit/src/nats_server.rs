//! A private `nats-server` with JetStream for fault tests: started on a free loopback port with
//! its own store directory, it can be stopped (gracefully or by `SIGKILL`) and started again on
//! the same port and directory, so a test can take "the bus" away and bring it back while its
//! clients reconnect.
//!
//! It deliberately knows nothing of streams, subjects or what the test does with the server; it
//! only owns the process, its port and its directory. Tests that need no faults use the shared
//! server from [`crate::nats`] instead: starting a server costs a few hundred milliseconds.

use std::{
    net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// How long a starting server may take to accept connections before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// The `nats-server` binary: `MZ_NATS_SERVER_BIN`, else `/usr/sbin/nats-server` when it exists
/// (Debian's package), else `nats-server` from `PATH`.
pub fn nats_server_bin() -> PathBuf {
    if let Ok(bin) = std::env::var("MZ_NATS_SERVER_BIN") {
        return PathBuf::from(bin);
    }
    let debian = Path::new("/usr/sbin/nats-server");
    if debian.exists() {
        debian.to_path_buf()
    } else {
        PathBuf::from("nats-server")
    }
}

/// A `nats-server -js` process owned by one test. Dropping it kills the process and removes its
/// store directory.
#[derive(Debug)]
pub struct NatsServer {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts a server with JetStream on a free loopback port and waits until it accepts
    /// connections. Panics with a message when the binary is missing or never comes up.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory for the nats-server store");
        let mut server = Self {
            port: free_port(),
            dir,
            child: None,
        };
        server.restart();
        server
    }

    /// The server's URL, stable across restarts.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the process is running (as far as this handle knows).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Starts the server again on the same port and store directory (a no-op when it runs).
    pub fn restart(&mut self) {
        if self.child.is_some() {
            return;
        }
        let bin = nats_server_bin();
        let child = Command::new(&bin)
            .args(["-js", "-a", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .arg("-sd")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} ({e}); install nats-server or set MZ_NATS_SERVER_BIN",
                    bin.display()
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        let address = SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.port);
        while TcpStream::connect_timeout(&address.into(), Duration::from_millis(200)).is_err() {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                panic!(
                    "nats-server on port {} exited at start-up: {status}",
                    self.port
                );
            }
            assert!(
                Instant::now() < deadline,
                "nats-server on port {} did not accept connections within {START_TIMEOUT:?}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server gracefully (`SIGTERM`) and waits for it to exit, so that everything it
    /// acknowledged is on disk: the test is about the bus being away, not about losing data.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let terminated = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if !terminated {
            let _ = child.kill();
        }
        let _ = child.wait();
    }

    /// Kills the server with `SIGKILL`, as a crash would. nats-server 2.9 acknowledges
    /// publishes before they reach the disk, so recently acknowledged messages may be lost.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A loopback port that was free a moment ago. The listener is dropped before the server binds
/// it; another process could take it in between, which on a test machine is rare enough.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a free loopback port");
    listener
        .local_addr()
        .expect("local address of a bound listener")
        .port()
}
