#!/usr/bin/env bash
# The deep fuzz run (`make fuzz`): every target of crates/fuzz under libFuzzer for FUZZ_SECONDS
# (default 60) each, then its corpus minimised. Needs nightly Rust and cargo-fuzz, installed here
# when missing; `make test` needs neither (it replays fuzz/corpus on stable).
#
#   FUZZ_SECONDS=600 FUZZ_TARGETS="stored_event envelope" make fuzz
#
# The sanitizer defaults to none: every crate of the workspace forbids unsafe code and the targets
# hunt panics and broken properties; FUZZ_SANITIZER=address checks the dependencies' unsafe code
# too, at about half the speed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
sanitizer=${FUZZ_SANITIZER:-none}
targets=${FUZZ_TARGETS:-$(cd fuzz/fuzz_targets && ls -- *.rs | sed 's/\.rs$//')}
cargo=${CARGO:-cargo}

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
"$cargo" fuzz --version >/dev/null 2>&1 || "$cargo" install cargo-fuzz --locked

# The seeds first, so a run starts from them; the fuzz workspace builds with the main lock file.
"$cargo" run -q -p minzheng-fuzz --bin seed-corpus
cp Cargo.lock fuzz/Cargo.lock

for target in $targets; do
    corpus=fuzz/corpus/$target
    if ! "$cargo" +nightly fuzz run -O -a -s "$sanitizer" "$target" -- \
        -max_total_time="$seconds" -timeout=10; then
        echo "make fuzz: $target failed; its input is in fuzz/artifacts/$target. Fix the bug, keep" \
            "the input as $corpus/crash-<name> and a test in crates/fuzz/tests/fuzz/regressions.rs" >&2
        exit 1
    fi
    # Keep the named seeds and crash inputs as they are, and of the rest only what covers an edge
    # they do not (set cover by edges, not by libFuzzer's finer features, keeps the corpus in
    # kilobytes).
    found=$(mktemp -d)
    find "$corpus" -maxdepth 1 -type f ! -name 'seed-*' ! -name 'crash-*' -exec mv -t "$found" {} +
    "$cargo" +nightly fuzz run -O -a -s "$sanitizer" "$target" "$corpus" "$found" -- \
        -merge=1 -set_cover_merge=1 -use_counters=0 -max_len=2048
    rm -rf "$found"
done
echo "fuzz/corpus: $(find fuzz/corpus -type f | wc -l) files, $(find fuzz/corpus -type f -exec cat {} + | wc -c) bytes"
