#!/usr/bin/env bash
# Builds `tavla` for a Raspberry Pi 4/5 (aarch64, 64-bit Raspberry Pi OS or Debian arm64) from
# an x86-64 Debian machine: the Rust target from rustup, the C cross compiler (ring builds C)
# from Debian. The binary lands in target/aarch64-unknown-linux-gnu/<profile>/tavla.
#
#   deploy/cross-build.sh            # debug build (what the test suite runs under qemu)
#   deploy/cross-build.sh --release  # what goes on a box
set -euo pipefail
cd "$(dirname "$0")/.."

target=aarch64-unknown-linux-gnu
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! rustup target list --installed | grep -qx "$target"; then
  rustup target add "$target"
fi
if ! command -v aarch64-linux-gnu-gcc >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-aarch64-linux-gnu >/dev/null
fi

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
cargo build --locked --target "$target" -p tavla --bin tavla "$@"
