#!/usr/bin/env bash
# Packs a built `tavla` into a Debian package with Debian's own dpkg-deb:
#
#   deploy/make-deb.sh amd64 target/release/tavla
#   deploy/make-deb.sh arm64 target/aarch64-unknown-linux-gnu/release/tavla
#
# The package holds the binary (/usr/bin/tavla), the hardened systemd unit, the settings file
# /etc/tavla/tavla.toml (a conffile: an upgrade keeps the school's changes) and the docs. It
# makes a system user `tavla`; the data lives in /var/lib/tavla, kept on upgrade and removal,
# deleted only by `apt purge tavla`. Prints the .deb's path.
set -euo pipefail
cd "$(dirname "$0")/.."

arch=${1:?architecture: amd64 or arm64}
binary=${2:?the tavla binary to pack}
out=${3:-target/deb}
case "$arch" in amd64|arm64) ;; *) echo "make-deb: unknown architecture $arch" >&2; exit 2 ;; esac
version=$(sed -n 's/^version = "\(.*\)"/\1/p' server/Cargo.toml | head -1)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"
install -D -m 0755 "$binary" "$stage/usr/bin/tavla"
sed -e 's|/usr/local/bin/tavla|/usr/bin/tavla|' \
    -e 's|^# Environment=TAVLA_CONFIG=/etc/tavla/tavla.toml|Environment=TAVLA_CONFIG=/etc/tavla/tavla.toml|' \
    deploy/tavla.service > "$stage/tavla.service"
install -D -m 0644 "$stage/tavla.service" "$stage/lib/systemd/system/tavla.service"
rm "$stage/tavla.service"
install -D -m 0644 deploy/debian/tavla.toml "$stage/etc/tavla/tavla.toml"
for doc in README.md docs/OPERATIONS.md docs/PRIVACY.md docs/PRIVACY.nb.md docs/PRIVACY.nn.md; do
    install -D -m 0644 "$doc" "$stage/usr/share/doc/tavla/$(basename "$doc")"
done
install -d "$stage/DEBIAN"
for script in postinst prerm postrm; do
    install -m 0755 "deploy/debian/$script" "$stage/DEBIAN/$script"
done
echo /etc/tavla/tavla.toml > "$stage/DEBIAN/conffiles"
size=$(du -sk "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<CONTROL
Package: tavla
Version: $version
Architecture: $arch
Maintainer: Tavla developers <tavla@localhost>
Installed-Size: $size
Depends: libc6, adduser
Recommends: wireguard-tools, nftables
Section: education
Priority: optional
Description: classroom collaboration server for one box in the classroom
 Shared documents, private teacher-pupil messages and live lessons for pupils at
 home, on a Raspberry Pi or a school NUC. Nothing leaves the school's premises.
CONTROL
mkdir -p "$out"
deb="$out/tavla_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$stage" "$deb" >/dev/null
echo "$deb"
