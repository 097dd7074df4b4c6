#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything a fresh Debian 12 machine needs to build the test
# kernel, the modules and the initramfs, and to run them in QEMU.
# Idempotent: when everything is present it only checks and returns.
#
#   setup.sh          what `make check` and `make run` need
#   setup.sh bench    also what `make bench` needs (gnuplot for its plots)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PACKAGES=(
	bc bison busybox-static clang-19 cpio flex gcc-multilib kmod libclang-19-dev
	libelf-dev libssl-dev lld-19 llvm-19 make python3 qemu-system-x86
	xz-utils
)
# Only for `make bench`.
BENCH_PACKAGES=(gnuplot-nox)
[ "${1:-}" != bench ] || PACKAGES+=("${BENCH_PACKAGES[@]}")

install_packages() {
	local missing=() p
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]} (run as root or install them)"
	msg "installing Debian packages: ${missing[*]}"
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

install_rust() {
	command -v rustup >/dev/null || die "rustup not found: install the Rust toolchain with rustup first"
	if [ ! -d "$(rustc --print sysroot)/lib/rustlib/src/rust/library" ]; then
		msg "rustup component add rust-src"
		rustup component add rust-src
	fi
	for c in rustfmt clippy; do
		rustup component list --installed | grep -q "^$c" || rustup component add "$c"
	done
	if ! bindgen --version 2>/dev/null | grep -qx "bindgen $BINDGEN_VERSION"; then
		msg "cargo install bindgen-cli $BINDGEN_VERSION (about 2 minutes)"
		cargo install bindgen-cli --version "$BINDGEN_VERSION" --locked
	fi
}

# The Debian mirror of this machine, read from its own apt sources, so
# that no registry host is written into the repository.
debian_mirror() {
	local uri
	uri=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '{print $2}' | grep -v -- '-security' | grep '/debian/\?$' | head -n1)
	[ -n "$uri" ] || uri=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' |
		grep -v -- '-security' | head -n1)
	[ -n "$uri" ] || die "no Debian mirror found in the apt sources of this machine"
	echo "${uri%/}"
}

# Fetch linux-source-$KERNEL_SERIES through a private apt configuration:
# the machine's own apt sources are never changed.
fetch_kernel_source() {
	local dir="$CACHE_DIR/source" deb tarball
	tarball=$(ls "$dir"/linux-source-"$KERNEL_SERIES".tar.xz 2>/dev/null || true)
	if [ -n "$tarball" ] && [ -f "$dir/VERSION" ]; then
		return 0
	fi
	mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial"
	local mirror
	mirror=$(debian_mirror)
	msg "fetching linux-source-$KERNEL_SERIES from $KERNEL_SUITE (mirror from the apt sources of this machine)"
	cat >"$dir/apt/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $KERNEL_SUITE main
SRC
	local opts=(
		-o Dir::Etc::sourcelist="$dir/apt/sources.list"
		-o Dir::Etc::sourceparts=-
		-o Dir::State::Lists="$dir/apt/lists"
		-o Dir::Cache="$dir/apt/cache"
		-o APT::Get::List-Cleanup=0
		-o Debug::NoLocking=1
		-o APT::Sandbox::User=root
	)
	apt-get "${opts[@]}" update -q
	(cd "$dir" && apt-get "${opts[@]}" download "linux-source-$KERNEL_SERIES")
	deb=$(ls -t "$dir"/linux-source-"$KERNEL_SERIES"_*.deb | head -n1)
	[ -f "$deb" ] || die "download of linux-source-$KERNEL_SERIES failed"
	msg "unpacking $(basename "$deb")"
	rm -rf "$dir/pkg"
	dpkg-deb -x "$deb" "$dir/pkg"
	tarball=$(ls "$dir"/pkg/usr/src/linux-source-"$KERNEL_SERIES".tar.* | head -n1)
	[ -f "$tarball" ] || die "no kernel tarball in $deb"
	mv "$tarball" "$dir/linux-source-$KERNEL_SERIES.tar.xz"
	dpkg-deb -f "$deb" Version >"$dir/VERSION"
	rm -rf "$dir/pkg" "$deb"
	msg "kernel source: linux-source-$KERNEL_SERIES $(cat "$dir/VERSION")"
}

install_packages
install_rust
fetch_kernel_source
