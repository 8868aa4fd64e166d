//! The committed corpus (`fuzz/corpus/<target>/`): every file replayed through its target, the
//! seeds present, and the corpus, the libFuzzer entries and the targets naming one another.

use std::{
    collections::BTreeSet,
    fs,
    panic::{AssertUnwindSafe, catch_unwind},
    path::{Path, PathBuf},
};

use minzheng_fuzz::{TARGETS, seeds::seeds};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn names_in(dir: &Path, strip: &str) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| {
            let name = entry.expect("a directory entry").file_name();
            let name = name.to_string_lossy();
            name.strip_suffix(strip).unwrap_or(&name).to_owned()
        })
        .collect()
}

#[test]
fn every_target_has_a_libfuzzer_entry_and_a_corpus_and_nothing_else_does() {
    let targets: BTreeSet<String> = TARGETS.iter().map(|t| t.name.to_owned()).collect();
    assert_eq!(
        names_in(&fuzz_dir().join("fuzz_targets"), ".rs"),
        targets,
        "fuzz/fuzz_targets/ has one entry per minzheng_fuzz::TARGETS"
    );
    assert_eq!(
        names_in(&fuzz_dir().join("corpus"), ""),
        targets,
        "fuzz/corpus/ has one directory per minzheng_fuzz::TARGETS"
    );
}

#[test]
fn every_seed_is_committed_as_generated() {
    let stale: Vec<String> = seeds()
        .into_iter()
        .filter(|seed| {
            fs::read(fuzz_dir().join("corpus").join(seed.target).join(&seed.name)).ok()
                != Some(seed.data.clone())
        })
        .map(|seed| format!("{}/{}", seed.target, seed.name))
        .collect();
    assert!(
        stale.is_empty(),
        "seeds missing or different in fuzz/corpus (run `cargo run -p minzheng-fuzz --bin \
         seed-corpus`): {stale:?}"
    );
}

#[test]
fn every_corpus_file_passes_its_target() {
    let mut failures = Vec::new();
    let mut replayed = 0;
    for target in TARGETS {
        let dir = fuzz_dir().join("corpus").join(target.name);
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|entry| entry.expect("a directory entry").path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{} has no corpus", target.name);
        for file in files {
            let data = fs::read(&file).expect("a readable corpus file");
            replayed += 1;
            if catch_unwind(AssertUnwindSafe(|| (target.run)(&data))).is_err() {
                failures.push(file.display().to_string());
            }
        }
    }
    assert!(
        failures.is_empty(),
        "corpus files that make their target panic: {failures:?}"
    );
    assert!(replayed > 0);
}
