#!/usr/bin/env bash
# Every Tavla test, from a fresh Debian machine with Rust, Node 20 and apt:
# installs Debian's Chromium, tcpdump, iproute2, python3, the aarch64 cross compiler, qemu-user,
# wireguard-tools, wireguard-go and nftables,
# and the npm packages the tests use, checks formatting, lints,
# checks that web-client/dist is what its sources build, then runs the Rust tests (unit and
# end-to-end) and the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# chromium for the browser tests; tcpdump and iproute2 for the tests that run in network
# namespaces (nothing leaves the box; mDNS discovery); python3 drives the connection flood.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v tcpdump >/dev/null || missing+=(tcpdump)
command -v ip >/dev/null || missing+=(iproute2)
command -v python3 >/dev/null || missing+=(python3)
# The Raspberry Pi build: Debian's aarch64 cross compiler, and qemu-user to run it here.
command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
# A real WireGuard tunnel in the VPN test, in userspace (no kernel module needed).
command -v wg-quick >/dev/null || missing+=(wireguard-tools)
command -v wireguard-go >/dev/null || missing+=(wireguard-go)
# The VPN interface's rule that forwards nothing beyond the box (and its test) uses nftables.
command -v nft >/dev/null || missing+=(nftables)
if [ ${#missing[@]} -gt 0 ]; then
  step "installing Debian's ${missing[*]} for the browser and capture tests"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

step "web client: install, rebuild, compare with the committed dist/"
(cd web-client && npm ci --no-audit --no-fund --loglevel=error && node build.mjs --check)

step "JavaScript test packages (browser and Yjs interop)"
(cd tests/js && npm ci --no-audit --no-fund --loglevel=error)

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Rust tests (unit, end-to-end, command line)"
# Tests that need root (mounting a small filesystem to fill) are #[ignore]d: as root they run
# too; without root they show as skipped.
if [ "$(id -u)" -eq 0 ]; then
  nextest_root=(--run-ignored all)
  test_root=(-- --include-ignored)
else
  nextest_root=()
  test_root=()
fi
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast "${nextest_root[@]}"
else
  cargo test --workspace --locked --no-fail-fast "${test_root[@]}"
fi

step "the Raspberry Pi (aarch64) build, for the test that runs it under qemu"
deploy/cross-build.sh

step "JavaScript tests: official Yjs clients, headless Chromium with axe-core, arm64 under qemu"
cargo build --locked -p tavla --bin tavla
(cd tests/js && npm test)
