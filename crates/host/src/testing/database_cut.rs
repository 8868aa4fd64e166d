//! Every RPC of a service with its database cut: the answer a client can act on ("retry later",
//! UNAVAILABLE, or its own deadline, DEADLINE_EXCEEDED), never INTERNAL or UNKNOWN, within a
//! bound of the operator's acquire timeout; and the service working again once the database is
//! back, without a restart.
//!
//! The RPCs come from the service's access table, so a new RPC is covered as soon as it is
//! declared: the test fails until it is given a valid request. Each request is first sent with
//! the database up, to prove it is well-formed and admitted (so that UNAVAILABLE afterwards is
//! the database's doing, not a validation short-cut), and — sent in the table's order — to
//! create what later requests name.

use std::time::{Duration, Instant};

use bytes::Bytes;
use minzheng_kit::{access::AccessPolicy, auth::Role};
use tonic::{Code, Request, client::Grpc, transport::Channel};

use super::{RawCodec, TestHost, province_token, with_token};

/// How long the answers may take, as a multiple of the acquire timeout: a handler may wait for a
/// connection more than once on its way to failing (its query, then the read audit).
const BOUND_IN_ACQUIRE_TIMEOUTS: u32 = 3;

/// The longest any single call may take before it is reported as hanging.
const HANG: Duration = Duration::from_secs(60);

/// How long the service may take to work again once the database is back.
const RECOVERY: Duration = Duration::from_secs(30);

/// What [`assert_every_rpc_unavailable_while_database_cut`] needs of a service.
pub struct DatabaseCut<'a> {
    /// The service's name in the test host (which hosts it distributed, through a proxy).
    pub service: &'a str,
    /// Its access table: the RPCs called.
    pub policy: &'a AccessPolicy,
    /// A valid request (the encoded protobuf message) for each RPC, by method name; `None` for
    /// an RPC nobody gave one, which fails the test.
    pub request: &'a dyn Fn(&str) -> Option<Bytes>,
    /// RPCs allowed to answer from an in-memory view while the database is down (OK, or
    /// NOT_FOUND for a request that names nothing known), each with the reason.
    pub answered_from_memory: &'a [(&'a str, &'a str)],
    /// An RPC that writes, which must succeed again once the database is back, and its request
    /// (a new one: not a replay of a baseline request).
    pub recovery: (&'a str, Bytes),
}

impl std::fmt::Debug for DatabaseCut<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseCut")
            .field("service", &self.service)
            .field("answered_from_memory", &self.answered_from_memory)
            .field("recovery", &self.recovery.0)
            .finish_non_exhaustive()
    }
}

/// One RPC's answer while the database was cut.
#[derive(Debug, Clone)]
pub struct CutAnswer {
    pub method: &'static str,
    /// How the database was cut: its connections "refused" or "unanswered".
    pub cut: &'static str,
    pub code: Code,
    pub took: Duration,
}

/// Calls every RPC of `cut.policy` with its request and a token admitted by every rule, first
/// with the database up (any answer but a refusal of the request itself or a failure), then with
/// the service's database proxy cut, twice: refusing connections, then leaving them unanswered
/// (UNAVAILABLE or DEADLINE_EXCEEDED within three acquire timeouts; OK or NOT_FOUND also for
/// `answered_from_memory`), then restores the proxy and
/// waits for the recovery write to succeed. Panics listing every mismatch; returns the answers
/// given during the cut, for the figures.
pub async fn assert_every_rpc_unavailable_while_database_cut(
    host: &TestHost,
    cut: DatabaseCut<'_>,
) -> Vec<CutAnswer> {
    let grpc = Grpc::new(host.channel(cut.service).await);
    let mut problems = Vec::new();
    for (method, _) in cut.answered_from_memory {
        if cut.policy.rpc(method).is_none() {
            problems.push(format!(
                "{method} is listed as answered from memory but is not an RPC"
            ));
        }
    }
    let mut requests = Vec::new();
    for rpc in cut.policy.rpcs {
        match (cut.request)(rpc.method) {
            Some(request) => requests.push((rpc.method, request)),
            None => problems.push(format!("{}: no valid request given", rpc.method)),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    for (method, request) in &requests {
        let (code, message, _) = call(&grpc, cut.policy, method, request.clone()).await;
        if matches!(
            code,
            Code::InvalidArgument
                | Code::Internal
                | Code::Unknown
                | Code::Unimplemented
                | Code::Unauthenticated
                | Code::PermissionDenied
                | Code::Unavailable
                | Code::DeadlineExceeded
        ) {
            problems.push(format!(
                "{method} with the database up: {code:?} ({message}); give it a valid request"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "the requests must be valid and admitted for the test to mean anything:\n{}",
        problems.join("\n")
    );

    let proxy = host.database_proxy(cut.service);
    let bound = host.database_acquire_timeout() * BOUND_IN_ACQUIRE_TIMEOUTS;
    let mut answers = Vec::new();
    // A stopped server refuses connections at once; one behind a vanished network leaves them
    // unanswered, and only the acquire timeout ends the wait.
    for (how, silent) in [("refused", false), ("unanswered", true)] {
        if silent {
            proxy.cut_silently();
        } else {
            proxy.cut();
        }
        let round = futures::future::join_all(requests.iter().map(|(method, request)| {
            let grpc = grpc.clone();
            async move {
                let (code, message, took) = call(&grpc, cut.policy, method, request.clone()).await;
                (
                    CutAnswer {
                        method,
                        cut: how,
                        code,
                        took,
                    },
                    message,
                )
            }
        }))
        .await;
        proxy.restore();
        answers.extend(round);
    }
    for (answer, message) in &answers {
        let from_memory = cut
            .answered_from_memory
            .iter()
            .any(|(m, _)| *m == answer.method);
        let expected = matches!(answer.code, Code::Unavailable | Code::DeadlineExceeded)
            || (from_memory && matches!(answer.code, Code::Ok | Code::NotFound));
        if !expected {
            problems.push(format!(
                "{} (connections {}): {:?} ({message}), expected UNAVAILABLE or \
                 DEADLINE_EXCEEDED{}",
                answer.method,
                answer.cut,
                answer.code,
                if from_memory {
                    " (or an answer from memory)"
                } else {
                    ""
                }
            ));
        }
        if answer.took > bound {
            problems.push(format!(
                "{} (connections {}): answered after {:?}, beyond {bound:?} \
                 ({BOUND_IN_ACQUIRE_TIMEOUTS} acquire timeouts)",
                answer.method, answer.cut, answer.took
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "with its database cut, {} answered:\n{}",
        cut.service,
        problems.join("\n")
    );

    let (method, request) = cut.recovery;
    let deadline = Instant::now() + RECOVERY;
    loop {
        let (code, message, _) = call(&grpc, cut.policy, method, request.clone()).await;
        match code {
            Code::Ok => break,
            // Connections that died with the cut are replaced as calls find them dead.
            Code::Unavailable if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            _ => panic!(
                "{method} after the database came back: {code:?} ({message}); the service did \
                 not recover"
            ),
        }
    }
    answers.into_iter().map(|(answer, _)| answer).collect()
}

/// Calls `method` with `request` and a token of every role scoped to the province: the code,
/// the message and how long the answer took.
async fn call(
    grpc: &Grpc<Channel>,
    policy: &AccessPolicy,
    method: &str,
    request: Bytes,
) -> (Code, String, Duration) {
    let mut grpc = grpc.clone();
    let path = format!("/{}/{method}", policy.service);
    let request: Request<Bytes> = with_token(request, &province_token(&Role::ALL));
    grpc.ready().await.expect("the channel is ready");
    let started = Instant::now();
    // Read as far as the answer's headers: a server-streaming RPC answers with its open stream.
    let answer = tokio::time::timeout(
        HANG,
        grpc.server_streaming::<_, Bytes, _>(
            request,
            path.parse().expect("a valid path"),
            RawCodec,
        ),
    )
    .await;
    let took = started.elapsed();
    match answer {
        Ok(Ok(_)) => (Code::Ok, String::new(), took),
        Ok(Err(status)) => (status.code(), status.message().to_owned(), took),
        Err(_) => (Code::Unknown, format!("no answer within {HANG:?}"), took),
    }
}
