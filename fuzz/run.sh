#!/usr/bin/env bash
# Runs one cargo-fuzz target for a while (needs `cargo +nightly` and
# `cargo install cargo-fuzz`):  fuzz/run.sh TARGET [SECONDS] [libFuzzer flags…]
# Targets: trace_reader, scenario_parser, schedule_parser. Seeds and the
# dictionary come from lockscope::fuzzing (written by tests/fuzz.rs); new
# corpus entries go to fuzz/corpus/TARGET, crashes to fuzz/artifacts/TARGET.
# No single allocation may exceed 64 MiB: the parsers cap their own.
set -euo pipefail
target=${1:?usage: fuzz/run.sh TARGET [SECONDS] [libFuzzer flags…]}
seconds=${2:-60}
shift $(( $# < 2 ? $# : 2 ))
cd "$(dirname "$0")/.."
LOCKSCOPE_FUZZ_EXPORT="$PWD/fuzz" cargo test --quiet --test fuzz export >/dev/null
mkdir -p "fuzz/corpus/$target"
cd fuzz
exec cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
    -dict="dict/$target.dict" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=64 -print_final_stats=1 "$@"
