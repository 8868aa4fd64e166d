//! Writes the seeds (`minzheng_fuzz::seeds`) into a corpus directory, one subdirectory per
//! target: `seed-corpus [DIR]`, by default the workspace's `fuzz/corpus`. `make fuzz` runs it
//! first, so a deep run always starts from the current seeds.

use std::{fs, path::PathBuf, process::ExitCode};

fn main() -> ExitCode {
    let dir = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus"),
        PathBuf::from,
    );
    for seed in minzheng_fuzz::seeds::seeds() {
        let target = dir.join(seed.target);
        if let Err(error) = fs::create_dir_all(&target)
            .and_then(|()| fs::write(target.join(&seed.name), &seed.data))
        {
            eprintln!("seed-corpus: cannot write {}: {error}", target.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
