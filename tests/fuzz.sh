#!/usr/bin/env bash
# Runs every fuzz target (server/fuzz) for a bounded time: a maintainer's check before a
# release, not part of the test command (it needs a nightly toolchain and takes a while).
#
#   ./tests/fuzz.sh            # 120 s per target
#   ./tests/fuzz.sh 600        # longer
#
# Installs cargo-fuzz if missing. Prints one line per target with its executions and result;
# exits non-zero if any target found a crash (the input is kept under server/fuzz/artifacts).
set -euo pipefail
cd "$(dirname "$0")/../server"
seconds="${1:-120}"

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

# yrs reserves memory for the counts a frame claims; absurd claims must fail the way they do
# on the box (a refused allocation), not abort the fuzzer (see fuzz_targets/room_frames.rs).
export ASAN_OPTIONS=allocator_may_return_null=1
targets=(room_frames ws_messages media_offers uploads config_files)
failed=0
summary=()
for target in "${targets[@]}"; do
  echo "==> $target for ${seconds} s"
  log="$(mktemp)"
  if cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -malloc_limit_mb=1000000 >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    failed=1
    tail -40 "$log"
  fi
  runs="$(grep -o 'Done [0-9]* runs' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')"
  summary+=("$target: $runs executions in ${seconds} s, $result")
  rm -f "$log"
done
printf '\n'
printf '%s\n' "${summary[@]}"
exit "$failed"
