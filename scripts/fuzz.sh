#!/usr/bin/env bash
# Runs each fuzz target of native/fuzz for a bounded time, then minimises its corpus.
#   scripts/fuzz.sh [seconds per target, default 60] [target ...]
# Targets: parse_head, chunked, router (all by default). Each first replays the inputs of past
# findings in native/fuzz/regressions/<target>/. Crashes land in native/fuzz/artifacts/<target>/;
# the script exits non-zero if any target crashed.
# cargo-fuzz needs nightly flags: on a stable toolchain RUSTC_BOOTSTRAP=1 unlocks them.
# FUZZ_SANITIZER: address (default) or none (about twice as fast, catches less).
# FUZZ_ARGS: extra libFuzzer flags, e.g. "-fork=1 -ignore_crashes=1" to go on past a known crash.
set -euo pipefail

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(parse_head chunked router)
sanitizer="${FUZZ_SANITIZER:-address}"
read -r -a extra <<<"${FUZZ_ARGS:-}"

cd "$(dirname "$0")/../native/fuzz"
command -v cargo-fuzz >/dev/null || { echo "fuzz.sh: cargo-fuzz missing: cargo install cargo-fuzz" >&2; exit 2; }
export RUSTC_BOOTSTRAP=1

fuzz() { nice -n 19 cargo fuzz "$1" -O --sanitizer "$sanitizer" "${@:2}"; }

fuzz build
status=0
for target in "${targets[@]}"; do
  corpus="corpus/$target"
  mkdir -p "$corpus" "artifacts/$target"
  log="$(mktemp)"
  echo "== $target: ${seconds}s"
  if [ -d "regressions/$target" ] && ! fuzz run "$target" "regressions/$target" -- -runs=0 >"$log" 2>&1; then
    status=1
    echo "   a past finding fails again:"; grep -E "panicked|ERROR" "$log" | head -5 || true
  fi
  # -max_len bounds inputs to a few heads' worth. -timeout is generous: the machine is shared,
  # and under load a 2 s limit flagged inputs that run in milliseconds alone.
  if ! fuzz run "$target" "$corpus" -- -max_total_time="$seconds" -max_len=4096 -timeout=10 \
      -print_final_stats=1 "${extra[@]}" >"$log" 2>&1; then
    status=1
    grep -E "panicked|ERROR|Test unit written" "$log" | head -5 || true
  fi
  grep -E "^(Done [0-9]+ runs|stat::number_executed_units)" "$log" || tail -3 "$log"
  rm -f "$log"
  # Keep the committed corpus small: only inputs that add an edge of coverage survive
  # (hit counts are ignored, which keeps a tenth of the files).
  minimised="$(mktemp -d)"
  if fuzz run "$target" "$minimised" "$corpus" -- -merge=1 -use_counters=0 >/dev/null 2>&1 \
      && [ -n "$(ls -A "$minimised")" ]; then
    rm -rf "$corpus" && mv "$minimised" "$corpus"
  else
    rm -rf "$minimised"
  fi
  echo "   corpus: $(ls "$corpus" | wc -l) files, $(cat "$corpus"/* | wc -c) bytes"
done
exit "$status"
