//! A TCP proxy a test can cut: the way to take PostgreSQL (or anything else) "down" for one test
//! without stopping the server every other test shares.
//!
//! `TcpProxy::start(upstream)` listens on a free loopback port and forwards each connection to
//! `upstream`. `cut()` drops every open connection and refuses new ones until `restore()`, as a
//! stopped server does; `cut_silently()` drops them and holds new ones open without a word, as a
//! server that vanished behind a firewall does (a client then waits until its own timeout).

use std::{
    net::{SocketAddr, ToSocketAddrs as _},
    str::FromStr as _,
    sync::{
        Arc,
        atomic::{AtomicU8, Ordering},
    },
};

use sqlx::postgres::PgConnectOptions;
use tokio::{
    io::copy_bidirectional,
    net::{TcpListener, TcpStream},
    sync::watch,
    task::JoinHandle,
};

/// What the proxy does with a connection: forward it, close it, or hold it unanswered.
const FORWARDING: u8 = 0;
const REFUSING: u8 = 1;
const SILENT: u8 = 2;

/// A running proxy; stops when dropped.
#[derive(Debug)]
pub struct TcpProxy {
    addr: SocketAddr,
    state: Arc<AtomicU8>,
    generation: watch::Sender<u64>,
    accept: JoinHandle<()>,
}

impl TcpProxy {
    /// Starts forwarding a free loopback port to `upstream` (e.g. `127.0.0.1:5432`).
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let state = Arc::new(AtomicU8::new(FORWARDING));
        let (generation, _) = watch::channel(0u64);
        let accept = {
            let state = state.clone();
            let generation = generation.clone();
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    let mut cut_signal = generation.subscribe();
                    let started_in = *cut_signal.borrow();
                    match state.load(Ordering::SeqCst) {
                        // Refused: closing at once is what a stopped server looks like to a
                        // client that reached the port.
                        REFUSING => {
                            drop(inbound);
                            continue;
                        }
                        // Held, unanswered, until the proxy is restored or dropped.
                        SILENT => {
                            tokio::spawn(async move {
                                let _ = cut_signal.wait_for(|g| *g != started_in).await;
                                drop(inbound);
                            });
                            continue;
                        }
                        _ => {}
                    }
                    tokio::spawn(async move {
                        let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                            return;
                        };
                        tokio::select! {
                            _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                            _ = cut_signal.wait_for(|g| *g != started_in) => {}
                        }
                    });
                }
            })
        };
        Self {
            addr,
            state,
            generation,
            accept,
        }
    }

    /// Starts forwarding a free loopback port to the test PostgreSQL server (the host and port
    /// of [`crate::postgres_admin_url`]).
    pub async fn to_postgres() -> Self {
        let admin = crate::postgres_admin_url();
        let options = PgConnectOptions::from_str(&admin).expect("valid MZ_TEST_DATABASE_URL");
        let upstream = (options.get_host(), options.get_port())
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .unwrap_or_else(|| panic!("the PostgreSQL host of {admin} does not resolve"));
        Self::start(upstream).await
    }

    /// The proxy's own address, to connect to instead of the upstream.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.state.store(REFUSING, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Drops every open connection and accepts new ones without ever answering them.
    pub fn cut_silently(&self) {
        self.state.store(SILENT, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Forwards connections again (those held by [`TcpProxy::cut_silently`] are dropped).
    pub fn restore(&self) {
        self.state.store(FORWARDING, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.generation.send_modify(|g| *g += 1);
    }
}

/// The PostgreSQL URL of `database` reached through `proxy` instead of directly.
pub fn postgres_url_via(proxy: &TcpProxy, database: &str) -> String {
    let admin = crate::postgres_admin_url();
    let user = admin
        .strip_prefix("postgres://")
        .and_then(|rest| rest.split('@').next())
        .unwrap_or("postgres");
    format!("postgres://{user}@{}/{database}", proxy.addr())
}
