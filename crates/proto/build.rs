//! Generates Rust code for every `.proto` file under the workspace's `proto/` directory.
//!
//! The directory is walked, so a new service's protos are compiled without editing this file.
//! `protoc` comes from `protoc-bin-vendored` unless `PROTOC` names another one; no system protoc
//! is needed. Servers and clients are generated with different codecs: servers use
//! `crate::codec::ProstCodec`, which reports a malformed request as INVALID_ARGUMENT (the
//! client's fault), while clients keep tonic's codec, for which a malformed *response* is
//! INTERNAL (the server's fault). tonic-prost-build has one codec setting for both, so two of its
//! service generators are combined below.
//!
//! This script knows nothing of the individual services: it compiles whatever is there.

use std::{
    env, fs, io,
    path::{Path, PathBuf},
};

use prost_build::{Service, ServiceGenerator};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let proto_root = manifest_dir.join("../../proto").canonicalize()?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);

    // Cargo rescans a directory named here recursively, which also catches newly added files.
    println!("cargo:rerun-if-changed={}", proto_root.display());
    println!("cargo:rerun-if-env-changed=PROTOC");

    let mut protos = Vec::new();
    collect_protos(&proto_root, &mut protos)?;
    protos.sort();
    if protos.is_empty() {
        return Err(format!("no .proto files under {}", proto_root.display()).into());
    }

    let mut config = prost_build::Config::new();
    // Every message implements `prost::Name`, so a stored event's type is `M::full_name()`
    // (`minzheng.placenames.v1.DivisionRecorded`) rather than a hand-written constant.
    config.enable_type_names();
    // prost-build reads PROTOC itself; only when it is unset do we point it at the vendored one.
    if env::var_os("PROTOC").is_none() {
        config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    }
    config.service_generator(Box::new(SplitCodecs {
        servers: tonic_prost_build::configure()
            .build_client(false)
            .build_server(true)
            .codec_path("crate::codec::ProstCodec")
            .service_generator(),
        clients: tonic_prost_build::configure()
            .build_client(true)
            .build_server(false)
            .service_generator(),
    }));

    // The well-known types (google/protobuf/*.proto) ship with the vendored protoc.
    let includes = [proto_root, protoc_bin_vendored::include_path()?];
    tonic_prost_build::configure()
        // The combined generator set on `config` emits the services; these switches only stop the
        // builder from replacing it with its own.
        .build_client(false)
        .build_server(false)
        .file_descriptor_set_path(out_dir.join("minzheng_descriptor.bin"))
        .include_file("minzheng_include.rs")
        .compile_with_config(config, &protos, &includes)?;
    Ok(())
}

/// Appends every `.proto` file below `dir` to `found`.
fn collect_protos(dir: &Path, found: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, found)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            found.push(path);
        }
    }
    Ok(())
}

/// Generates each service's client with one generator and its server with another.
struct SplitCodecs {
    servers: Box<dyn ServiceGenerator>,
    clients: Box<dyn ServiceGenerator>,
}

impl ServiceGenerator for SplitCodecs {
    fn generate(&mut self, service: Service, buf: &mut String) {
        self.clients.generate(service.clone(), buf);
        self.servers.generate(service, buf);
    }

    fn finalize(&mut self, buf: &mut String) {
        self.clients.finalize(buf);
        self.servers.finalize(buf);
    }

    fn finalize_package(&mut self, package: &str, buf: &mut String) {
        self.clients.finalize_package(package, buf);
        self.servers.finalize_package(package, buf);
    }
}
