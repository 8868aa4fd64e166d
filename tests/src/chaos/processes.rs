//! The suite's services as operating-system processes: the real `minzheng <service>` binary,
//! configured by `MZ_*` variables as Kubernetes configures it, on a fixed loopback port (so that
//! clients reconnect to the same address after a restart), logging to a file of the run.
//!
//! `kill` is `SIGKILL`: the process's relay and consumers stop wherever they are in their work,
//! which is the point. `terminate` is `SIGTERM`, a graceful stop.

use std::{
    fs::OpenOptions,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::Duration,
};

use anyhow::{Context as _, bail};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// How long a started process may take to answer health checks.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The `minzheng` binary: `MZ_MINZHENG_BIN`, else the one beside the running program in the
/// same target directory (`target/<profile>/minzheng`; a test runs from `target/<profile>/deps`).
pub fn minzheng_bin() -> anyhow::Result<PathBuf> {
    if let Ok(bin) = std::env::var("MZ_MINZHENG_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let exe = std::env::current_exe().context("locating the running program")?;
    let mut dir = exe.parent().context("the program has no directory")?;
    if dir.ends_with("deps") {
        dir = dir.parent().context("deps has no parent")?;
    }
    let bin = dir.join("minzheng");
    if !bin.exists() {
        bail!(
            "{} does not exist: build it first (`cargo build -p minzheng`, with --release for \
             `make chaos`) or set MZ_MINZHENG_BIN",
            bin.display()
        );
    }
    Ok(bin)
}

/// One service process, stopped or running.
#[derive(Debug)]
pub struct ServiceProcess {
    name: &'static str,
    bin: PathBuf,
    addr: SocketAddr,
    environment: Vec<(String, String)>,
    log: PathBuf,
    child: Option<Child>,
    /// Exits the harness did not cause, with their status.
    pub unexpected_exits: Vec<String>,
}

impl ServiceProcess {
    /// A process of `service` (not started) listening on `addr`, configured by `environment`
    /// (only `MZ_*` settings; the harness's own `MZ_*` variables are not passed on), logging to
    /// `<log_dir>/<service>.log`.
    pub fn new(
        service: &'static str,
        bin: &Path,
        addr: SocketAddr,
        environment: Vec<(String, String)>,
        log_dir: &Path,
    ) -> Self {
        Self {
            name: service,
            bin: bin.to_owned(),
            addr,
            environment,
            log: log_dir.join(format!("{service}.log")),
            child: None,
            unexpected_exits: Vec::new(),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Starts the process (a no-op when it runs) and waits until it reports serving.
    pub async fn start(&mut self) -> anyhow::Result<()> {
        if self.child.is_none() {
            let log = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log)
                .with_context(|| format!("opening {}", self.log.display()))?;
            let mut command = Command::new(&self.bin);
            command
                .arg(self.name)
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log);
            for (name, _) in std::env::vars_os() {
                if name.to_string_lossy().starts_with("MZ_") {
                    command.env_remove(name);
                }
            }
            command.envs(self.environment.iter().map(|(k, v)| (k, v)));
            let child = command
                .spawn()
                .with_context(|| format!("starting {} {}", self.bin.display(), self.name))?;
            self.child = Some(child);
        }
        self.wait_ready().await
    }

    /// Waits until the process answers its health check with SERVING.
    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.exited() {
                bail!(
                    "{} exited at start-up ({status}); see {}",
                    self.name,
                    self.log.display()
                );
            }
            if self.serving().await {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "{} did not serve within {READY_TIMEOUT:?}; see {}",
                    self.name,
                    self.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn serving(&self) -> bool {
        let Ok(endpoint) = tonic::transport::Endpoint::from_shared(format!("http://{}", self.addr))
        else {
            return false;
        };
        let Ok(channel) = endpoint
            .connect_timeout(Duration::from_secs(1))
            .connect()
            .await
        else {
            return false;
        };
        let mut client = HealthClient::new(channel);
        let mut request = tonic::Request::new(HealthCheckRequest {
            service: String::new(),
        });
        request.set_timeout(Duration::from_secs(2));
        client
            .check(request)
            .await
            .is_ok_and(|answer| answer.into_inner().status == ServingStatus::Serving as i32)
    }

    /// The exit status when the process has exited on its own (it is then no longer running).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        let status = self.child.as_mut()?.try_wait().ok()??;
        self.child = None;
        Some(status)
    }

    /// Restarts a process that exited on its own, recording the exit; true when it had.
    pub async fn revive(&mut self) -> anyhow::Result<bool> {
        match self.exited() {
            Some(status) => {
                self.unexpected_exits.push(status.to_string());
                self.start().await?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// `SIGKILL`, as a crash or an evicted pod.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `SIGTERM` and waits for the graceful shutdown (at most `timeout`, then `SIGKILL`).
    pub async fn terminate(&mut self, timeout: Duration) {
        let Some(child) = self.child.as_mut() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                self.child = None;
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.kill();
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
