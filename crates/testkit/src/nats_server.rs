//! A private `nats-server` with JetStream for fault tests: started on a free loopback port with
//! its own store directory, it can be stopped (gracefully or by `SIGKILL`) and started again on
//! the same port and directory, so a test can take "the bus" away and bring it back while its
//! clients reconnect.
//!
//! It can also run with a configuration file and environment variables
//! ([`NatsServer::start_with_config`]), for tests of what the configuration allows: accounts,
//! users and their permissions.
//!
//! It deliberately knows nothing of streams, subjects or what the test does with the server; it
//! only owns the process, its port, its directory and the configuration it was given. Tests that
//! need no faults use the shared server from [`crate::nats`] instead: starting a server costs a
//! few hundred milliseconds.

use std::{
    fs::File,
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
    config: Option<Config>,
}

/// The configuration file a server runs with, and the environment it reads variables from.
#[derive(Debug, Clone)]
struct Config {
    file: PathBuf,
    env: Vec<(String, String)>,
}

impl NatsServer {
    /// Starts a server with JetStream on a free loopback port and waits until it accepts
    /// connections. Panics with a message when the binary is missing or never comes up.
    pub fn start() -> Self {
        Self::start_as(None)
    }

    /// Starts a server with the configuration `file` and the environment variables `env` (on top
    /// of the test's own), which the file can refer to as `$NAME` (passwords, say). The address,
    /// the port and the store directory are this handle's, whatever the file says: the
    /// command line overrides them, so the file needs no port and restarts keep the same
    /// ones. JetStream is enabled. Panics with the server's own message when it refuses the
    /// configuration.
    ///
    /// nats-server 2.9 resolves `include` paths relative to the including file's directory,
    /// absolute ones included, so a file including another should be written beside it.
    pub fn start_with_config(file: impl AsRef<Path>, env: &[(&str, &str)]) -> Self {
        Self::start_as(Some(Config {
            file: file.as_ref().to_path_buf(),
            env: env
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
        }))
    }

    fn start_as(config: Option<Config>) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory for the nats-server store");
        let mut server = Self {
            port: free_port(),
            dir,
            child: None,
            config,
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

    /// Starts the server again on the same port and store directory, with the same configuration
    /// (a no-op when it runs).
    pub fn restart(&mut self) {
        if self.child.is_some() {
            return;
        }
        let bin = nats_server_bin();
        let mut command = Command::new(&bin);
        if let Some(config) = &self.config {
            command.arg("-c").arg(&config.file);
            command.envs(config.env.iter().map(|(name, value)| (name, value)));
        }
        // The server's log, for the message when it does not come up.
        let log = self.dir.path().join("nats-server.log");
        let stderr = File::create(&log).map_or_else(|_| Stdio::null(), Stdio::from);
        let child = command
            .args(["-js", "-a", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .arg("-sd")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
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
                let said = std::fs::read_to_string(&log).unwrap_or_default();
                panic!(
                    "nats-server on port {} exited at start-up: {status}\n{}",
                    self.port,
                    said.trim_end()
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
