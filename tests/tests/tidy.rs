//! Tidy: the architecture invariants of `DESIGN.md` and `ARCHITECTURE.md`, enforced, in the
//! manner of rust-analyzer's `xtask/src/tidy.rs`. Each rule is one test over the workspace as it
//! is (`cargo metadata` for the crate graph, the `src/` trees for the rest), and each fails with
//! the file or crate, the rule and the way to fix it.
//!
//! Every rule's checker is a plain function over in-memory data, so the tests at the bottom run
//! it over small fixtures that break the rule: a rule that stopped catching anything would fail
//! there.
//!
//! **How source is read.** Comments (`//`, `/* */`, doc comments) and string, byte-string, raw
//! string and char literals are removed by a small lexer that keeps line numbers, so a doc
//! comment mentioning `prost` trips nothing. `#[cfg(test)] mod … { … }` blocks are removed too:
//! tests beside the code may use test-only crates and the clock. What remains is matched as
//! paths with identifier boundaries (`tokio` matches `tokio::spawn`, not `tokio_util`). This is
//! not a Rust parser: a renamed import (`use std::time::SystemTime as T; T::now()`) escapes it,
//! and it does not try harder than that.
//!
//! **Allowlists.** A rule's exceptions are constants beside it, each with a comment: either a
//! legitimate exception, or a known violation marked `// to fix:`. An entry that no longer
//! matches anything fails the rule too, so fixing a violation means deleting its entry.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use serde_json::Value;

// ------------------------------------------------------------------------------------------------
// Rule 1: the crate dependency graph.
// ------------------------------------------------------------------------------------------------

/// Dev-dependencies between service crates that are tolerated, as (dependent, dependency).
const SERVICE_DEV_DEPENDENCY_ALLOWLIST: &[(&str, &str)] = &[];

/// The only crates that may depend on service crates (normal or build dependencies): the binary
/// that hosts them, the cross-service tests, and the fuzz targets (which feed the services'
/// event codecs and import parser; nothing depends on them).
const MAY_DEPEND_ON_SERVICES: &[&str] = &["minzheng", "minzheng-tests", "minzheng-fuzz"];

/// What `minzheng-kit` must not depend on (normal dependencies): the bus, and the backends. It
/// depends on the store's contract (`minzheng-eventstore`), never on how a backend holds it.
const KIT: &str = "minzheng-kit";
const KIT_FORBIDDEN: &[&str] = &["minzheng-bus", "sqlx", "async-nats"];

/// `minzheng-types` does no IO and knows no protobuf: none of these as normal dependencies, and
/// neither `std::fs` nor `std::net` in its source.
const TYPES: &str = "minzheng-types";
const TYPES_DIR: &str = "crates/types/src";
const TYPES_FORBIDDEN: &[&str] = &[
    "tokio",
    "sqlx",
    "async-nats",
    "tonic",
    "prost",
    "prost-types",
];
const TYPES_FORBIDDEN_STD: &[&str] = &["fs", "net"];

/// Crates that know no domain, hence no service crate (any kind of dependency).
const DOMAIN_AGNOSTIC: &[&str] = &["minzheng-eventstore", "minzheng-bus"];

#[test]
fn services_do_not_depend_on_each_other() {
    report(
        "services never depend on each other's crates",
        check_services_independent(workspace()),
    );
}

#[test]
fn kit_depends_on_neither_the_bus_nor_a_backend() {
    report(
        "minzheng-kit depends on neither the bus nor a backend",
        check_kit(workspace()),
    );
}

#[test]
fn types_do_no_io() {
    let mut violations = check_types_dependencies(workspace());
    violations.extend(check_types_source(&sources(&[TYPES_DIR])));
    report("minzheng-types does no IO", violations);
}

#[test]
fn store_and_bus_know_no_service() {
    report(
        "the event store and the bus know no service",
        check_domain_agnostic(workspace()),
    );
}

#[test]
fn only_the_binary_and_the_tests_depend_on_services() {
    report(
        "only the binary and the cross-service tests depend on service crates",
        check_service_dependents(workspace()),
    );
}

// ------------------------------------------------------------------------------------------------
// Rule 2: domain modules are pure.
// ------------------------------------------------------------------------------------------------

/// The adapters of a service that has no entry in [`ADAPTERS`]: the layout a new service
/// follows (`docs/new-service.md`), so that adding one needs no entry here.
const CONVENTIONAL_ADAPTERS: &[&str] = &[
    "codec.rs",
    "codec/",
    "grpc/",
    "app.rs",
    "app/",
    "module.rs",
    "projections/",
];

/// Per service (its directory under `services/`), the modules that are adapters: they may do IO
/// and know protobuf. Paths are relative to `src/`; a trailing `/` means a directory. Every other
/// module of the service is domain and must stay pure, so a new file is checked by default. A
/// service laid out by convention needs no entry ([`CONVENTIONAL_ADAPTERS`]).
const ADAPTERS: &[(&str, &[&str])] = &[
    (
        "placenames",
        // Not import.rs: it is the CSV edge but does no IO (bytes in, a plan out), so it stays
        // checked.
        &[
            "codec.rs",     // the protobuf event messages
            "grpc/",        // the gRPC service: request conversion, access, answers
            "app.rs",       // commands against the store, the enactment of adjustments
            "module.rs",    // the ServiceModule: tasks, timers, the dev seed
            "directory.rs", // the read model following the store (LiveView projection)
        ],
    ),
    (
        "civilregistry",
        &[
            "codec/",             // the protobuf event messages, its own and those it follows
            "grpc/",              // the gRPC service
            "app/",               // commands with today's date, commits across streams, schedulers
            "module.rs",          // the ServiceModule: consumers, schedulers
            "overview.rs",        // the read model of its own events (LiveView projection)
            "divisions.rs",       // bus projection of the place-names divisions into SQL
            "assistance_feed.rs", // bus projection of the assistance events into SQL
        ],
    ),
    (
        "assistance",
        &[
            "codec/",       // the protobuf event messages, its own and those it follows
            "grpc/",        // the gRPC service
            "app/",         // commands with today's date, commits across streams
            "module.rs",    // the ServiceModule: consumers, the dev seed
            "projections/", // the read model and the bus projections
            "stand_in.rs",  // the data-sharing stand-in the tests and the bench host
        ],
    ),
    (
        "datasharing",
        &[
            "codec/",       // the protobuf event messages, its own and those it follows
            "grpc/",        // the gRPC service and the load file
            "app/",         // loads, authorizations, the verification, the answers
            "module.rs",    // the ServiceModule: consumers, the dev seed
            "projections/", // the read model and the bus projections
            "knowledge.rs", // the knowledge clock's table
            "store.rs",     // the agency-record tables, loaded through COPY
        ],
    ),
    (
        "eldercare",
        &[
            "codec/",       // the protobuf event messages, its own and those it follows
            "grpc/",        // the gRPC service
            "app/",         // commands with today's date, commits across streams, indicators
            "module.rs",    // the ServiceModule: consumers, the escalation sweep
            "overview.rs",  // the read model of its own events (LiveView projection)
            "divisions.rs", // bus projection of the place-names divisions into SQL
            "feeds.rs",     // the other services' events, applied as commands
            "seed.rs",      // the dev seed, through the application
        ],
    ),
    (
        "childwelfare",
        &[
            "codec/",      // the protobuf event messages, its own and those it follows
            "grpc/",       // the gRPC service
            "app/",        // commands with today's date, commits across streams, indicators
            "module.rs",   // the ServiceModule: consumers, the escalation sweep
            "overview.rs", // the read model of its own events (LiveView projection)
            "feeds.rs",    // the other services' events, applied as commands
            "seed.rs",     // the dev seed, through the application
            "sealing.rs",  // reporters' identities encrypted under the key, nonces from the OS
        ],
    ),
];

/// What a domain module must not use, with what it would mean.
const DOMAIN_FORBIDDEN: &[(&str, &str)] = &[
    ("prost", "protobuf"),
    ("prost_types", "protobuf"),
    ("minzheng_proto", "generated protobuf types"),
    ("tonic", "gRPC"),
    ("tokio", "the async runtime (IO, timers)"),
    ("sqlx", "a database"),
    ("async_nats", "NATS"),
    // Not named in DESIGN.md's list, but IO all the same: our own store, bus and host.
    ("minzheng_eventstore", "the event store"),
    ("minzheng_bus", "the bus"),
    ("minzheng_host", "the host"),
    ("Instant::now", "a clock"),
];

/// Domain modules that break the rule today (path, pattern). None.
const DOMAIN_KNOWN_VIOLATIONS: &[(&str, &str)] = &[];

#[test]
fn domain_modules_are_pure() {
    report(
        "domain modules are pure (no IO, no clock, no protobuf)",
        check_domain_purity(&sources(&["services"]), ADAPTERS, DOMAIN_KNOWN_VIOLATIONS),
    );
}

// ------------------------------------------------------------------------------------------------
// Rule 3: generated proto types only in codec and grpc.
// ------------------------------------------------------------------------------------------------

/// In every service, the modules (relative to `src/`) that may name generated protobuf types.
const PROTO_MODULES: &[&str] = &["codec.rs", "codec/", "grpc/"];

/// What names the wire format.
const PROTO_PATHS: &[&str] = &["minzheng_proto", "prost", "prost_types"];

/// Projection adapters that decode another service's events themselves (full paths). The way is
/// a module under the service's `codec/`, as civilregistry's `assistance_feed.rs` does through
/// `codec::assistance`; the one exception plays another service: the assistance crate's
/// stand-in for the data-sharing service (tests and the bench only) reads the verification
/// requests and writes the results on the wire, as that service will.
const PROTO_PROJECTION_ADAPTERS: &[&str] = &["services/assistance/src/stand_in.rs"];

/// Files that name protobuf types outside codec and grpc today.
const PROTO_KNOWN_VIOLATIONS: &[&str] = &[];

#[test]
fn proto_types_stay_in_codec_and_grpc() {
    report(
        "generated proto types only in codec and grpc",
        check_proto_confinement(
            &sources(&["services"]),
            PROTO_PROJECTION_ADAPTERS,
            PROTO_KNOWN_VIOLATIONS,
        ),
    );
}

// ------------------------------------------------------------------------------------------------
// Rule 4: no system clock outside kit::clock.
// ------------------------------------------------------------------------------------------------

/// Where the system clock is read: `kit::clock`, which services get injected as a `Clock`.
const CLOCK_OWNER: &str = "crates/kit/src/clock.rs";

/// Reading the wall clock. (`Instant::now`, measuring a duration, is fine outside the domain.)
const CLOCK_CALLS: &[&str] = &[
    "SystemTime::now",
    "OffsetDateTime::now_utc",
    "OffsetDateTime::now_local",
    "UtcDateTime::now",
    "Utc::now",       // chrono
    "Local::now",     // chrono
    "Timestamp::now", // jiff
    "Zoned::now",     // jiff
    "get_current_timestamp",
    "today_in_china",
];

/// What the rule covers: library and binary source, not tests, benches or the test kit.
const CLOCK_SCOPE: &[&str] = &["crates", "services"];
const CLOCK_EXCLUDED: &[&str] = &["crates/testkit/"];

/// Legitimate readings of the wall clock outside `kit::clock` (path, call). A `Clock` gives a
/// civil date; these need an instant, and none of them decides anything in a domain.
const CLOCK_PERMITTED: &[(&str, &str)] = &[
    // A token's `iat`/`exp` are seconds since the epoch by definition.
    ("crates/kit/src/auth.rs", "get_current_timestamp"),
    // The store stamps `recorded_at` when it commits (PostgreSQL does the same with `now()`);
    // the event store sits below kit and cannot take its `Clock`.
    ("crates/eventstore/src/sqlite.rs", "OffsetDateTime::now_utc"),
    // The relay's lag metric: wall time since the last published event was recorded.
    ("crates/bus/src/relay/mod.rs", "OffsetDateTime::now_utc"),
    // The bearer-token fuzz target checks an accepted token's `exp` against the instant the
    // verifier (jsonwebtoken) read; it decides nothing.
    ("crates/fuzz/src/bearer_token.rs", "get_current_timestamp"),
];

/// Readings of the system clock that should come from an injected `Clock` (path, call).
const CLOCK_KNOWN_VIOLATIONS: &[(&str, &str)] = &[];

#[test]
fn no_system_clock_outside_kit_clock() {
    let files: Vec<_> = sources(CLOCK_SCOPE)
        .into_iter()
        .filter(|f| f.path.split('/').nth(2) == Some("src"))
        .filter(|f| !CLOCK_EXCLUDED.iter().any(|x| f.path.starts_with(x)))
        .collect();
    report(
        "no system clock outside kit::clock",
        check_clock(&files, CLOCK_PERMITTED, CLOCK_KNOWN_VIOLATIONS),
    );
}

// ------------------------------------------------------------------------------------------------
// The checkers: plain functions over the crate graph or source text, so fixtures can test them.
// ------------------------------------------------------------------------------------------------

const TIDY: &str = "tests/tests/tidy.rs";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Normal,
    Build,
    Dev,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Normal => "normal",
            Kind::Build => "build",
            Kind::Dev => "dev",
        }
    }
}

#[derive(Debug)]
struct Dependency {
    name: String,
    kind: Kind,
}

#[derive(Debug)]
struct Package {
    name: String,
    /// Relative to the workspace root, e.g. `services/placenames`.
    dir: String,
    dependencies: Vec<Dependency>,
}

impl Package {
    fn is_service(&self) -> bool {
        self.dir.starts_with("services/")
    }

    fn manifest(&self) -> String {
        format!("{}/Cargo.toml", self.dir)
    }
}

/// The workspace's packages from `cargo metadata --format-version 1 --no-deps` output.
fn packages(metadata: &Value) -> Vec<Package> {
    let root = metadata["workspace_root"]
        .as_str()
        .expect("cargo metadata has a workspace_root");
    let root = root.trim_end_matches('/');
    metadata["packages"]
        .as_array()
        .expect("cargo metadata has packages")
        .iter()
        .map(|p| {
            let manifest = p["manifest_path"].as_str().expect("a manifest_path");
            let dir = manifest
                .strip_prefix(root)
                .unwrap_or(manifest)
                .trim_start_matches('/')
                .trim_end_matches("Cargo.toml")
                .trim_end_matches('/')
                .replace('\\', "/");
            let dependencies = p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .map(|d| Dependency {
                    name: d["name"].as_str().expect("a dependency name").to_owned(),
                    kind: match d["kind"].as_str() {
                        None => Kind::Normal,
                        Some("build") => Kind::Build,
                        Some("dev") => Kind::Dev,
                        Some(other) => panic!("unknown dependency kind {other}"),
                    },
                })
                .collect();
            Package {
                name: p["name"].as_str().expect("a package name").to_owned(),
                dir,
                dependencies,
            }
        })
        .collect()
}

fn service_names(packages: &[Package]) -> Vec<&str> {
    packages
        .iter()
        .filter(|p| p.is_service())
        .map(|p| p.name.as_str())
        .collect()
}

fn package<'a>(
    packages: &'a [Package],
    name: &str,
    violations: &mut Vec<String>,
) -> Option<&'a Package> {
    let found = packages.iter().find(|p| p.name == name);
    if found.is_none() {
        violations.push(format!(
            "{TIDY}: no package `{name}` in the workspace; if it was renamed, rename it in the tidy rules"
        ));
    }
    found
}

fn check_services_independent(packages: &[Package]) -> Vec<String> {
    check_services_independent_allowing(packages, SERVICE_DEV_DEPENDENCY_ALLOWLIST)
}

/// The rule with `allowlist` for `SERVICE_DEV_DEPENDENCY_ALLOWLIST` (the fixtures' own, now that
/// the workspace's is empty).
fn check_services_independent_allowing(
    packages: &[Package],
    allowlist: &[(&str, &str)],
) -> Vec<String> {
    let services = service_names(packages);
    let mut violations = Vec::new();
    for service in packages.iter().filter(|p| p.is_service()) {
        for dep in service
            .dependencies
            .iter()
            .filter(|d| services.contains(&d.name.as_str()))
        {
            let allowlisted = dep.kind == Kind::Dev
                && allowlist.contains(&(service.name.as_str(), dep.name.as_str()));
            if allowlisted {
                continue;
            }
            let fix = if dep.kind == Kind::Dev {
                format!(
                    "host both services in a cross-service test in minzheng-tests (tests/tests/) \
                     instead; if it really must stay, add (\"{}\", \"{}\") with a comment saying why \
                     to SERVICE_DEV_DEPENDENCY_ALLOWLIST in {TIDY}",
                    service.name, dep.name
                )
            } else {
                format!(
                    "remove it: talk to `{}` through its gRPC API (proto) or keep a projection of its \
                     events (the bus)",
                    dep.name
                )
            };
            violations.push(format!(
                "{}: the service crate `{}` has a {} dependency on the service crate `{}`; rule: \
                 services never depend on each other's crates (DESIGN.md, Architecture invariants). \
                 Fix: {fix}",
                service.manifest(),
                service.name,
                dep.kind.as_str(),
                dep.name
            ));
        }
    }
    for (dependent, dependency) in allowlist {
        let present = packages.iter().any(|p| {
            p.name == *dependent
                && p.dependencies
                    .iter()
                    .any(|d| d.kind == Kind::Dev && d.name == *dependency)
        });
        if !present {
            violations.push(format!(
                "{TIDY}: SERVICE_DEV_DEPENDENCY_ALLOWLIST allows `{dependent}` a dev-dependency on \
                 `{dependency}`, which it no longer has. Fix: delete the entry"
            ));
        }
    }
    violations
}

fn check_kit(packages: &[Package]) -> Vec<String> {
    let mut violations = Vec::new();
    if let Some(kit) = package(packages, KIT, &mut violations) {
        for dep in kit
            .dependencies
            .iter()
            .filter(|d| d.kind == Kind::Normal && KIT_FORBIDDEN.contains(&d.name.as_str()))
        {
            violations.push(format!(
                "{}: `{KIT}` depends on `{}`; rule: the kit depends on the store's contract \
                 (minzheng-eventstore), never on a backend (sqlx, async-nats), and not on the bus. \
                 Fix: move the code that needs `{}` into minzheng-host, minzheng-bus or the \
                 eventstore backend, behind a trait the kit defines",
                kit.manifest(),
                dep.name,
                dep.name
            ));
        }
    }
    violations
}

fn check_types_dependencies(packages: &[Package]) -> Vec<String> {
    let mut violations = Vec::new();
    if let Some(types) = package(packages, TYPES, &mut violations) {
        for dep in types
            .dependencies
            .iter()
            .filter(|d| d.kind == Kind::Normal && TYPES_FORBIDDEN.contains(&d.name.as_str()))
        {
            violations.push(format!(
                "{}: `{TYPES}` depends on `{}`; rule: the value types do no IO and know no \
                 protobuf (ARCHITECTURE.md). Fix: keep the values pure; put IO in a service or the \
                 kit, and protobuf conversions in minzheng-proto's `convert`",
                types.manifest(),
                dep.name
            ));
        }
    }
    violations
}

fn check_types_source(files: &[SourceFile]) -> Vec<String> {
    let mut violations = Vec::new();
    for file in files {
        for module in TYPES_FORBIDDEN_STD {
            for line in std_module_uses(&file.code, module) {
                violations.push(format!(
                    "{}:{line}: `{TYPES}` uses `std::{module}`; rule: the value types do no IO. \
                     Fix: parse from and format to strings or bytes, and leave the IO to the caller",
                    file.path
                ));
            }
        }
    }
    violations
}

fn check_domain_agnostic(packages: &[Package]) -> Vec<String> {
    let services = service_names(packages);
    let mut violations = Vec::new();
    for name in DOMAIN_AGNOSTIC {
        if let Some(krate) = package(packages, name, &mut violations) {
            for dep in krate
                .dependencies
                .iter()
                .filter(|d| services.contains(&d.name.as_str()))
            {
                violations.push(format!(
                    "{}: `{name}` has a {} dependency on the service crate `{}`; rule: the event \
                     store and the bus know nothing of the domains. Fix: remove it; test with \
                     opaque payloads, and leave domain wiring to minzheng-host and the services",
                    krate.manifest(),
                    dep.kind.as_str(),
                    dep.name
                ));
            }
        }
    }
    violations
}

fn check_service_dependents(packages: &[Package]) -> Vec<String> {
    let services = service_names(packages);
    let mut violations = Vec::new();
    // Services among themselves are `services_do_not_depend_on_each_other`'s business.
    for krate in packages
        .iter()
        .filter(|p| !p.is_service() && !MAY_DEPEND_ON_SERVICES.contains(&p.name.as_str()))
    {
        for dep in krate
            .dependencies
            .iter()
            .filter(|d| d.kind != Kind::Dev && services.contains(&d.name.as_str()))
        {
            violations.push(format!(
                "{}: `{}` has a {} dependency on the service crate `{}`; rule: only {} depend on \
                 service crates. Fix: reach the service through `minzheng_host::ServiceModule` or \
                 its gRPC API; a test hosting it belongs in minzheng-tests",
                krate.manifest(),
                krate.name,
                dep.kind.as_str(),
                dep.name,
                MAY_DEPEND_ON_SERVICES.join(" and ")
            ));
        }
    }
    violations
}

/// A source file: its path from the workspace root and its code without comments, literals and
/// test modules.
#[derive(Debug)]
struct SourceFile {
    path: String,
    code: String,
}

impl SourceFile {
    fn new(path: &str, text: &str) -> Self {
        Self {
            path: path.to_owned(),
            code: without_test_modules(&strip_comments_and_literals(text)),
        }
    }

    /// `services/<service>/src/<rest>` split into service and rest.
    fn service_module(&self) -> Option<(&str, &str)> {
        let rest = self.path.strip_prefix("services/")?;
        let (service, rest) = rest.split_once('/')?;
        Some((service, rest.strip_prefix("src/")?))
    }
}

fn module_matches(module: &str, pattern: &str) -> bool {
    if pattern.ends_with('/') {
        module.starts_with(pattern)
    } else {
        module == pattern
    }
}

fn check_domain_purity(
    files: &[SourceFile],
    adapters: &[(&str, &[&str])],
    known: &[(&str, &str)],
) -> Vec<String> {
    let mut violations = Vec::new();
    let mut used_known = vec![false; known.len()];
    let mut services_seen = Vec::new();
    for file in files {
        let Some((service, module)) = file.service_module() else {
            continue;
        };
        if !services_seen.contains(&service) {
            services_seen.push(service);
        }
        let service_adapters = adapters
            .iter()
            .find(|(s, _)| *s == service)
            .map_or(CONVENTIONAL_ADAPTERS, |(_, listed)| *listed);
        if service_adapters.iter().any(|a| module_matches(module, a)) {
            continue;
        }
        let clock = CLOCK_CALLS.iter().map(|c| (*c, "a clock"));
        for (pattern, what) in DOMAIN_FORBIDDEN.iter().copied().chain(clock) {
            let lines = lines_with_path(&file.code, pattern);
            if lines.is_empty() {
                continue;
            }
            if let Some(i) = known
                .iter()
                .position(|k| *k == (file.path.as_str(), pattern))
            {
                used_known[i] = true;
                continue;
            }
            for line in lines {
                violations.push(format!(
                    "{}:{line}: the domain module uses `{pattern}` ({what}); rule: domain modules \
                     are pure: no IO, no clock, no protobuf (DESIGN.md, \"Aggregates are pure\"). \
                     Fix: do it in an adapter (app, codec, grpc, a projection) and pass the result \
                     in the command; if this file is an adapter, add it to ADAPTERS in {TIDY}",
                    file.path
                ));
            }
        }
    }
    for (service, modules) in adapters {
        if !services_seen.contains(service) {
            continue;
        }
        for module in *modules {
            let exists = files.iter().any(|f| {
                f.service_module()
                    .is_some_and(|(s, m)| s == *service && module_matches(m, module))
            });
            if !exists {
                violations.push(format!(
                    "{TIDY}: ADAPTERS names services/{service}/src/{module}, which does not exist. \
                     Fix: delete or rename the entry"
                ));
            }
        }
    }
    stale(
        &mut violations,
        known,
        &used_known,
        "DOMAIN_KNOWN_VIOLATIONS",
    );
    violations
}

fn check_proto_confinement(files: &[SourceFile], adapters: &[&str], known: &[&str]) -> Vec<String> {
    let mut violations = Vec::new();
    let mut used_known = vec![false; known.len()];
    let mut used_adapters = vec![false; adapters.len()];
    for file in files {
        let Some((_, module)) = file.service_module() else {
            continue;
        };
        if PROTO_MODULES.iter().any(|m| module_matches(module, m)) {
            continue;
        }
        let lines: Vec<(usize, &str)> = PROTO_PATHS
            .iter()
            .flat_map(|p| {
                lines_with_path(&file.code, p)
                    .into_iter()
                    .map(move |l| (l, *p))
            })
            .collect();
        if lines.is_empty() {
            continue;
        }
        if let Some(i) = adapters.iter().position(|a| *a == file.path) {
            used_adapters[i] = true;
            continue;
        }
        if let Some(i) = known.iter().position(|k| *k == file.path) {
            used_known[i] = true;
            continue;
        }
        for (line, pattern) in lines {
            violations.push(format!(
                "{}:{line}: `{pattern}` outside codec and grpc; rule: generated proto types stop at \
                 the edge: only a service's `codec` (events) and `grpc` (requests) name them \
                 (DESIGN.md, \"Proto types stop at the edge\"). Fix: convert in codec or grpc and \
                 hand this module domain types; a projection of another service's events decodes \
                 them through a module under codec/",
                file.path
            ));
        }
    }
    for (i, adapter) in adapters.iter().enumerate() {
        if !used_adapters[i] {
            violations.push(format!(
                "{TIDY}: PROTO_PROJECTION_ADAPTERS lists {adapter}, which names no proto type. \
                 Fix: delete the entry"
            ));
        }
    }
    for (i, path) in known.iter().enumerate() {
        if !used_known[i] {
            violations.push(format!(
                "{TIDY}: PROTO_KNOWN_VIOLATIONS lists {path}, which no longer names a proto type: \
                 fixed, thank you. Fix: delete the entry"
            ));
        }
    }
    violations
}

fn check_clock(
    files: &[SourceFile],
    permitted: &[(&str, &str)],
    known: &[(&str, &str)],
) -> Vec<String> {
    let mut violations = Vec::new();
    let mut used_permitted = vec![false; permitted.len()];
    let mut used_known = vec![false; known.len()];
    for file in files.iter().filter(|f| f.path != CLOCK_OWNER) {
        for call in CLOCK_CALLS {
            let lines = lines_with_path(&file.code, call);
            if lines.is_empty() {
                continue;
            }
            let key = (file.path.as_str(), *call);
            if let Some(i) = permitted.iter().position(|p| *p == key) {
                used_permitted[i] = true;
                continue;
            }
            if let Some(i) = known.iter().position(|k| *k == key) {
                used_known[i] = true;
                continue;
            }
            for line in lines {
                violations.push(format!(
                    "{}:{line}: `{call}` reads the system clock; rule: no system clock outside \
                     {CLOCK_OWNER}: services get today from an injected `kit::clock::Clock` \
                     (a `FixedClock` in tests). Fix: take a `Clock` (or the date, in a command); \
                     if this is an instant that no domain decision depends on, add it with a \
                     comment saying why to CLOCK_PERMITTED in {TIDY}",
                    file.path
                ));
            }
        }
    }
    stale(
        &mut violations,
        permitted,
        &used_permitted,
        "CLOCK_PERMITTED",
    );
    stale(
        &mut violations,
        known,
        &used_known,
        "CLOCK_KNOWN_VIOLATIONS",
    );
    violations
}

fn stale(violations: &mut Vec<String>, list: &[(&str, &str)], used: &[bool], name: &str) {
    for ((path, pattern), used) in list.iter().zip(used) {
        if !used {
            violations.push(format!(
                "{TIDY}: {name} lists `{pattern}` in {path}, which is no longer there. Fix: \
                 delete the entry"
            ));
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Reading source.
// ------------------------------------------------------------------------------------------------

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The code without comments and literals: every comment is dropped, every string, byte string,
/// raw string and char literal becomes `""` or `' '`; newlines stay, so line numbers hold.
fn strip_comments_and_literals(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    // Keeps the newlines of chars[from..to].
    let newlines = |out: &mut String, from: usize, to: usize| {
        out.extend(
            chars[from..to.min(chars.len())]
                .iter()
                .filter(|c| **c == '\n'),
        );
    };
    while i < chars.len() {
        let c = chars[i];
        let prev_ident = i > 0 && is_ident(chars[i - 1]);
        if c == '/' && at(i + 1) == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == Some('*') {
            let start = i;
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == Some('*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == Some('/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            newlines(&mut out, start, i);
        } else if c == 'r'
            && matches!(at(i + 1), Some('"' | '#'))
            && (!prev_ident
                || (i > 0
                    && matches!(chars[i - 1], 'b' | 'c')
                    && !(i > 1 && is_ident(chars[i - 2]))))
        {
            // A raw string r"…", r#"…"#, br"…", cr"…" (or the identifier `r#type`).
            let mut j = i + 1;
            let mut hashes = 0;
            while at(j) == Some('#') {
                hashes += 1;
                j += 1;
            }
            if at(j) != Some('"') {
                out.push(c);
                i += 1;
                continue;
            }
            let start = i;
            j += 1;
            loop {
                match at(j) {
                    None => break,
                    Some('"') if (1..=hashes).all(|k| at(j + k) == Some('#')) => {
                        j += 1 + hashes;
                        break;
                    }
                    Some(_) => j += 1,
                }
            }
            newlines(&mut out, start, j);
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            newlines(&mut out, start, i);
            out.push_str("\"\"");
        } else if c == '\'' {
            // A char literal ('a', '\n', '\u{1F600}') or a lifetime ('a, 'static).
            if at(i + 1) == Some('\\') {
                // Past the backslash and the escaped character, which may be a quote.
                let mut j = i + 3;
                while at(j).is_some_and(|c| c != '\'') {
                    j += 1;
                }
                out.push_str("' '");
                i = j + 1;
            } else if at(i + 2) == Some('\'') {
                out.push_str("' '");
                i += 3;
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The code without its `#[cfg(test)] mod … { … }` blocks (their newlines kept). Run on code
/// already stripped of comments and literals, where braces balance.
fn without_test_modules(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some((start, open)) = find_test_module(rest) {
        let mut depth = 0;
        let mut end = rest.len();
        for (offset, c) in rest[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + offset + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push_str(&rest[..start]);
        out.extend(rest[start..end].chars().filter(|c| *c == '\n'));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The byte offsets of the next `#[cfg(test)]` that introduces an inline module, and of that
/// module's opening brace.
fn find_test_module(code: &str) -> Option<(usize, usize)> {
    const ATTRIBUTE: &str = "#[cfg(test)]";
    let mut from = 0;
    while let Some(found) = code[from..].find(ATTRIBUTE) {
        let start = from + found;
        from = start + ATTRIBUTE.len();
        let mut rest = code[from..].trim_start();
        // Further attributes, e.g. `#[allow(…)]`.
        while rest.starts_with("#[") {
            match rest.find(']') {
                Some(close) => rest = rest[close + 1..].trim_start(),
                None => break,
            }
        }
        for visibility in ["pub(crate)", "pub(super)", "pub"] {
            if let Some(after) = rest.strip_prefix(visibility) {
                rest = after.trim_start();
                break;
            }
        }
        let Some(after) = rest.strip_prefix("mod") else {
            continue;
        };
        if !after.starts_with(char::is_whitespace) {
            continue;
        }
        let after = after.trim_start().trim_start_matches(is_ident).trim_start();
        if after.starts_with('{') {
            return Some((start, code.len() - after.len()));
        }
    }
    None
}

/// Whether `line` names `path` (e.g. `tokio`, `SystemTime::now`) with identifier boundaries on
/// both sides.
fn names_path(line: &str, path: &str) -> bool {
    line.match_indices(path).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + path.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// The 1-based numbers of the lines that name `path`.
fn lines_with_path(code: &str, path: &str) -> Vec<usize> {
    code.lines()
        .enumerate()
        .filter(|(_, line)| names_path(line, path))
        .map(|(i, _)| i + 1)
        .collect()
}

/// The lines that use `std::<module>`, also inside a group (`use std::{fs, io}`).
fn std_module_uses(code: &str, module: &str) -> Vec<usize> {
    let mut lines = lines_with_path(code, &format!("std::{module}"));
    let line_of = |offset: usize| code[..offset].matches('\n').count() + 1;
    for (at, _) in code.match_indices("std::{") {
        let group_start = at + "std::{".len();
        let mut depth = 1;
        let mut group_end = code.len();
        for (offset, c) in code[group_start..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        group_end = group_start + offset;
                        break;
                    }
                }
                _ => {}
            }
        }
        let group = &code[group_start..group_end];
        // Only the group's own items: `std::{io, fs::File}` names fs, `std::{sync::net}` does not.
        let top_level_items = group
            .split(',')
            .map(|item| item.trim().split("::").next().unwrap_or("").trim());
        if top_level_items.clone().any(|item| item == module) {
            let line = line_of(at);
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
    lines.sort_unstable();
    lines
}

// ------------------------------------------------------------------------------------------------
// The workspace as it is.
// ------------------------------------------------------------------------------------------------

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
        .to_path_buf()
}

fn workspace() -> &'static [Package] {
    static PACKAGES: OnceLock<Vec<Package>> = OnceLock::new();
    PACKAGES.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--manifest-path",
            ])
            .arg(root().join("Cargo.toml"))
            .output()
            .expect("cargo metadata runs");
        assert!(
            output.status.success(),
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let metadata: Value =
            serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
        packages(&metadata)
    })
}

/// Every `.rs` file under the given directories (relative to the workspace root), sorted, with
/// paths relative to the root. `target/` directories are skipped.
fn sources(dirs: &[&str]) -> Vec<SourceFile> {
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    walk(&path, files);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let root = root();
    let mut paths = Vec::new();
    for dir in dirs {
        walk(&root.join(dir), &mut paths);
    }
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text =
                std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let relative = path
                .strip_prefix(&root)
                .expect("under the root")
                .to_string_lossy()
                .replace('\\', "/");
            SourceFile::new(&relative, &text)
        })
        .collect()
}

fn report(rule: &str, violations: Vec<String>) {
    if violations.is_empty() {
        return;
    }
    let mut message = format!(
        "tidy rule broken: {rule} ({} violation(s))\n",
        violations.len()
    );
    for violation in &violations {
        let _ = writeln!(message, "\n- {violation}");
    }
    panic!("{message}");
}

// ------------------------------------------------------------------------------------------------
// The checkers catch what they should: each rule over a fixture that breaks it.
// ------------------------------------------------------------------------------------------------

mod the_rules_catch {
    use serde_json::json;

    use super::*;

    fn dep(name: &str, kind: Option<&str>) -> Value {
        json!({ "name": name, "kind": kind })
    }

    /// A workspace shaped like ours: (name, dir, dependencies).
    fn metadata(crates: &[(&str, &str, Vec<Value>)]) -> Vec<Package> {
        let packages: Vec<Value> = crates
            .iter()
            .map(|(name, dir, deps)| {
                json!({
                    "name": name,
                    "manifest_path": format!("/ws/{dir}/Cargo.toml"),
                    "dependencies": deps,
                })
            })
            .collect();
        super::packages(&json!({ "workspace_root": "/ws", "packages": packages }))
    }

    fn tidy_workspace() -> Vec<(&'static str, &'static str, Vec<Value>)> {
        vec![
            ("minzheng-types", "crates/types", vec![dep("time", None)]),
            (
                "minzheng-eventstore",
                "crates/eventstore",
                vec![dep("sqlx", None)],
            ),
            (
                "minzheng-bus",
                "crates/bus",
                vec![dep("minzheng-eventstore", None)],
            ),
            (
                "minzheng-kit",
                "crates/kit",
                vec![dep("minzheng-eventstore", None)],
            ),
            (
                "minzheng-placenames",
                "services/placenames",
                vec![dep("minzheng-kit", None)],
            ),
            (
                "minzheng-civilregistry",
                "services/civilregistry",
                vec![dep("minzheng-kit", None)],
            ),
            (
                "minzheng",
                "crates/minzheng",
                vec![
                    dep("minzheng-placenames", None),
                    dep("minzheng-civilregistry", None),
                ],
            ),
        ]
    }

    fn one_violation(violations: &[String], needles: &[&str]) {
        assert_eq!(violations.len(), 1, "{violations:#?}");
        for needle in needles {
            assert!(
                violations[0].contains(needle),
                "{needle:?} not in {violations:#?}"
            );
        }
    }

    #[test]
    fn a_tidy_workspace_passes_every_graph_rule() {
        let packages = metadata(&tidy_workspace());
        assert_eq!(check_services_independent(&packages), Vec::<String>::new());
        assert_eq!(check_kit(&packages), Vec::<String>::new());
        assert_eq!(check_types_dependencies(&packages), Vec::<String>::new());
        assert_eq!(check_domain_agnostic(&packages), Vec::<String>::new());
        assert_eq!(check_service_dependents(&packages), Vec::<String>::new());
    }

    #[test]
    fn a_service_depending_on_another() {
        for kind in [None, Some("build")] {
            let mut crates = tidy_workspace();
            crates[4].2.push(dep("minzheng-civilregistry", kind));
            one_violation(
                &check_services_independent(&metadata(&crates)),
                &[
                    "services/placenames/Cargo.toml",
                    "minzheng-civilregistry",
                    "never depend on each other",
                ],
            );
        }
    }

    #[test]
    fn a_service_dev_dependency_not_allowlisted() {
        let mut crates = tidy_workspace();
        crates[4].2.push(dep("minzheng-civilregistry", Some("dev")));
        one_violation(
            &check_services_independent(&metadata(&crates)),
            &["dev dependency", "SERVICE_DEV_DEPENDENCY_ALLOWLIST"],
        );
    }

    #[test]
    fn a_stale_dev_dependency_allowlist_entry() {
        let allowlist = [("minzheng-civilregistry", "minzheng-placenames")];
        let mut crates = tidy_workspace();
        crates[5].2.push(dep("minzheng-placenames", Some("dev")));
        assert_eq!(
            check_services_independent_allowing(&metadata(&crates), &allowlist),
            Vec::<String>::new(),
            "an allowlisted dev-dependency passes"
        );
        crates[5].2.pop();
        one_violation(
            &check_services_independent_allowing(&metadata(&crates), &allowlist),
            &["no longer has", "delete the entry"],
        );
    }

    #[test]
    fn the_kit_depending_on_the_bus_or_a_backend() {
        for forbidden in KIT_FORBIDDEN {
            let mut crates = tidy_workspace();
            crates[3].2.push(dep(forbidden, None));
            one_violation(&check_kit(&metadata(&crates)), &["minzheng-kit", forbidden]);
        }
        // A dev-dependency is the tests' business.
        let mut crates = tidy_workspace();
        crates[3].2.push(dep("sqlx", Some("dev")));
        assert!(check_kit(&metadata(&crates)).is_empty());
    }

    #[test]
    fn the_types_doing_io() {
        for forbidden in TYPES_FORBIDDEN {
            let mut crates = tidy_workspace();
            crates[0].2.push(dep(forbidden, None));
            one_violation(
                &check_types_dependencies(&metadata(&crates)),
                &["crates/types/Cargo.toml", forbidden],
            );
        }
        let file = SourceFile::new(
            "crates/types/src/lib.rs",
            "//! No `std::fs` here.\nuse std::{fmt, fs::File};\nfn f() { std::net::TcpStream::connect(\"x\"); }\n\
             use std::{sync::Arc};\n",
        );
        let violations = check_types_source(&[file]);
        assert_eq!(violations.len(), 2, "{violations:#?}");
        assert!(violations[0].contains("lib.rs:2") && violations[0].contains("std::fs"));
        assert!(violations[1].contains("lib.rs:3") && violations[1].contains("std::net"));
    }

    #[test]
    fn the_store_or_the_bus_knowing_a_service() {
        for (index, kind) in [(1, None), (2, Some("dev"))] {
            let mut crates = tidy_workspace();
            crates[index].2.push(dep("minzheng-placenames", kind));
            one_violation(
                &check_domain_agnostic(&metadata(&crates)),
                &["minzheng-placenames", "know nothing of the domains"],
            );
        }
    }

    #[test]
    fn a_library_depending_on_a_service() {
        let mut crates = tidy_workspace();
        crates.push((
            "minzheng-host",
            "crates/host",
            vec![dep("minzheng-placenames", None)],
        ));
        one_violation(
            &check_service_dependents(&metadata(&crates)),
            &["crates/host/Cargo.toml", "minzheng-placenames"],
        );
    }

    const FIXTURE_ADAPTERS: &[(&str, &[&str])] = &[("svc", &["grpc/", "app.rs"])];

    /// The fixture service: its two adapters and a domain module `rules.rs` with `text`.
    fn service_with_rules(text: &str) -> Vec<SourceFile> {
        vec![
            SourceFile::new("services/svc/src/grpc/mod.rs", "use tonic::Status;"),
            SourceFile::new("services/svc/src/app.rs", "use tokio::sync::RwLock;"),
            SourceFile::new("services/svc/src/rules.rs", text),
        ]
    }

    #[test]
    fn a_domain_module_doing_io_or_reading_the_clock() {
        let clean = "//! Mentions `prost` and tokio::spawn in a doc comment.\n\
                     /* sqlx::query */ fn f() -> &'static str { \"tonic::Status\" }\n\
                     #[cfg(test)]\nmod tests {\n    use tokio::test;\n    fn g() { SystemTime::now(); }\n}\n";
        assert_eq!(
            check_domain_purity(&service_with_rules(clean), FIXTURE_ADAPTERS, &[]),
            Vec::<String>::new()
        );

        for (text, pattern) in [
            ("use prost::Message;", "prost"),
            ("use minzheng_proto::svc::v1 as pb;", "minzheng_proto"),
            ("async fn f() { tokio::time::sleep(d).await }", "tokio"),
            ("fn f() -> sqlx::Result<()> {}", "sqlx"),
            (
                "fn f() { let t = std::time::Instant::now(); }",
                "Instant::now",
            ),
            (
                "fn f() { let d = OffsetDateTime::now_utc().date(); }",
                "OffsetDateTime::now_utc",
            ),
            ("fn f() { let d = today_in_china(); }", "today_in_china"),
            ("fn f() { chrono::Utc::now(); }", "Utc::now"),
        ] {
            one_violation(
                &check_domain_purity(&service_with_rules(text), FIXTURE_ADAPTERS, &[]),
                &[
                    "services/svc/src/rules.rs:1",
                    pattern,
                    "domain modules are pure",
                    "ADAPTERS",
                ],
            );
        }
        // Code after a test module is still read.
        let text = "#[cfg(test)]\nmod tests {\n    fn t() { let c = '{'; }\n}\nuse tokio::spawn;\n";
        one_violation(
            &check_domain_purity(&service_with_rules(text), FIXTURE_ADAPTERS, &[]),
            &["rules.rs:5", "tokio"],
        );
    }

    #[test]
    fn a_service_without_an_entry_has_the_conventional_adapters_and_a_stale_adapter_is_named() {
        let files = [
            SourceFile::new(
                "services/other/src/projections/widgets.rs",
                "use sqlx::AnyPool;",
            ),
            SourceFile::new("services/other/src/grpc/mod.rs", "use tonic::Status;"),
            SourceFile::new("services/other/src/widget.rs", "use tokio::spawn;"),
        ];
        one_violation(
            &check_domain_purity(&files, FIXTURE_ADAPTERS, &[]),
            &["services/other/src/widget.rs:1", "tokio"],
        );
        let files = [SourceFile::new("services/svc/src/app.rs", "")];
        one_violation(
            &check_domain_purity(&files, FIXTURE_ADAPTERS, &[]),
            &["grpc/", "does not exist"],
        );
    }

    #[test]
    fn a_known_domain_violation_allowed_and_then_stale() {
        let known = [("services/svc/src/rules.rs", "tokio")];
        let files = service_with_rules("use tokio::spawn;");
        assert_eq!(
            check_domain_purity(&files, FIXTURE_ADAPTERS, &known),
            Vec::<String>::new()
        );
        one_violation(
            &check_domain_purity(&service_with_rules(""), FIXTURE_ADAPTERS, &known),
            &["DOMAIN_KNOWN_VIOLATIONS", "delete the entry"],
        );
    }

    #[test]
    fn proto_types_outside_codec_and_grpc() {
        let files = [
            SourceFile::new("services/svc/src/codec.rs", "use prost::Message;"),
            SourceFile::new("services/svc/src/codec/x.rs", "use minzheng_proto::x;"),
            SourceFile::new("services/svc/src/grpc/mod.rs", "use minzheng_proto::x;"),
            SourceFile::new(
                "services/svc/src/lib.rs",
                "//! The domain never sees prost types.\n",
            ),
        ];
        assert_eq!(
            check_proto_confinement(&files, &[], &[]),
            Vec::<String>::new()
        );

        let files = [SourceFile::new(
            "services/svc/src/app.rs",
            "use std::sync::Arc;\nuse minzheng_proto::svc::v1 as pb;\n",
        )];
        one_violation(
            &check_proto_confinement(&files, &[], &[]),
            &[
                "services/svc/src/app.rs:2",
                "minzheng_proto",
                "codec and grpc",
            ],
        );
        // Listed as a projection adapter or a known violation, it passes; listed and clean, the
        // entry is stale.
        assert!(check_proto_confinement(&files, &["services/svc/src/app.rs"], &[]).is_empty());
        assert!(check_proto_confinement(&files, &[], &["services/svc/src/app.rs"]).is_empty());
        let clean = [SourceFile::new("services/svc/src/app.rs", "")];
        one_violation(
            &check_proto_confinement(&clean, &[], &["services/svc/src/app.rs"]),
            &["PROTO_KNOWN_VIOLATIONS", "delete the entry"],
        );
    }

    #[test]
    fn a_system_clock_outside_kit_clock() {
        let files = [
            SourceFile::new(CLOCK_OWNER, "fn today() { OffsetDateTime::now_utc() }"),
            SourceFile::new("crates/bus/src/x.rs", "fn f() { let t = Instant::now(); }"),
            SourceFile::new("crates/bus/src/y.rs", "// SystemTime::now() is banned\n"),
        ];
        assert_eq!(check_clock(&files, &[], &[]), Vec::<String>::new());

        for (text, call) in [
            (
                "fn f() { std::time::SystemTime::now(); }",
                "SystemTime::now",
            ),
            (
                "fn f() { OffsetDateTime::now_local(); }",
                "OffsetDateTime::now_local",
            ),
            ("fn f() { chrono::Local::now(); }", "Local::now"),
            (
                "pub use minzheng_kit::clock::today_in_china as today;",
                "today_in_china",
            ),
            (
                "fn f() { jsonwebtoken::get_current_timestamp(); }",
                "get_current_timestamp",
            ),
        ] {
            let files = [SourceFile::new("services/svc/src/grpc/mod.rs", text)];
            one_violation(
                &check_clock(&files, &[], &[]),
                &["services/svc/src/grpc/mod.rs:1", call, "kit::clock::Clock"],
            );
        }

        let files = [SourceFile::new(
            "crates/kit/src/auth.rs",
            "get_current_timestamp()",
        )];
        let permitted = [("crates/kit/src/auth.rs", "get_current_timestamp")];
        assert!(check_clock(&files, &permitted, &[]).is_empty());
        one_violation(
            &check_clock(&[], &permitted, &[]),
            &["CLOCK_PERMITTED", "delete the entry"],
        );
        one_violation(
            &check_clock(&[], &[], &permitted),
            &["CLOCK_KNOWN_VIOLATIONS", "delete the entry"],
        );
    }

    #[test]
    fn comments_and_literals_are_stripped_line_numbers_kept() {
        let text = "let a = \"prost\"; // tokio\n\
                    /* sqlx\n /* nested */ tonic */ let b = r#\"a \" prost\"#;\n\
                    let c = b\"tokio\"; let d = '\"'; let e: &'static str = \"\\\"tokio\";\n\
                    fn f<'a>(x: &'a str) {}\n";
        let code = strip_comments_and_literals(text);
        assert_eq!(code.lines().count(), text.lines().count(), "{code}");
        for banned in ["prost", "tokio", "sqlx", "tonic"] {
            assert!(
                lines_with_path(&code, banned).is_empty(),
                "{banned} in {code}"
            );
        }
        assert!(code.contains("fn f<'a>(x: &'a str) {}"), "{code}");
        // An identifier boundary: tokio_util is not tokio, r#type is no raw string.
        assert!(lines_with_path("use tokio_util::sync;", "tokio").is_empty());
        assert_eq!(
            lines_with_path(
                &strip_comments_and_literals("let r#type = tokio::spawn;"),
                "tokio"
            ),
            [1]
        );
    }
}
