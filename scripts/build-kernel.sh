#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the pinned test kernel once and cache it outside the repository,
# keyed by the kernel package version and the hash of .config.fragment.
#
#   build-kernel.sh              build if needed, print the build directory
#   build-kernel.sh --print-dir  print the directory a build would use
#
# Environment: KERNEL_FRAGMENT (default .config.fragment) selects another
# option fragment and KERNEL_FLAVOUR names it in the directory name
# (linux-7.3-<flavour>-<key>): `make bench` builds its kernel without the
# debug options this way, keyed the same way.
#
# A warm cache is detected by a stamp written after the build and the
# configuration check succeeded: nothing is reconfigured or rebuilt then.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FRAGMENT=${KERNEL_FRAGMENT:-$TOP/.config.fragment}
FLAVOUR=${KERNEL_FLAVOUR:-}
SRC_DIR="$CACHE_DIR/source"
JOBS=${JOBS:-$(($(nproc) + 1))}

[ -f "$SRC_DIR/VERSION" ] || die "kernel source not fetched yet: run scripts/setup.sh (make setup)"
version=$(cat "$SRC_DIR/VERSION")
# The key covers everything that changes the built kernel: the source
# version, the toolchain and the options of the fragment (not its
# comments or their order).
key=$( { echo "$version"; echo "LLVM=$LLVM_SUFFIX"; grep -E '^(CONFIG_|# CONFIG_)' "$FRAGMENT" | sort; } |
	sha256sum | cut -c1-12)
dir="$CACHE_DIR/linux-$KERNEL_SERIES-${FLAVOUR:+$FLAVOUR-}$key"
stamp="$dir/.rust-fence-built"

if [ "${1:-}" = --print-dir ]; then
	echo "$dir"
	exit 0
fi

kmake() { make -C "$dir" LLVM="$LLVM_SUFFIX" ARCH=x86_64 "$@"; }

# The UAPI headers (sync_file.h, ...) of this kernel, for the userspace
# tests; quick, and also done for trees built before this step existed.
finish() {
	if [ ! -f "$dir/usr/include/linux/sync_file.h" ]; then
		msg "installing the kernel's UAPI headers into $dir/usr/include"
		kmake -s headers >&2
	fi
	echo "$dir"
	exit 0
}

[ -f "$stamp" ] && finish

# One build at a time per cache directory.
mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.lock-$key"
flock 9
[ -f "$stamp" ] && finish

if [ ! -f "$dir/Makefile" ]; then
	msg "unpacking linux-source-$KERNEL_SERIES $version into $dir"
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	tar -C "$dir.tmp" --strip-components=1 -xf "$SRC_DIR/linux-source-$KERNEL_SERIES.tar.xz"
	mv "$dir.tmp" "$dir"
fi

msg "checking the Rust toolchain (make rustavailable)"
kmake -s rustavailable >&2 || die "the kernel does not accept this Rust toolchain: run scripts/setup.sh"

if [ ! -f "$dir/.config" ] || [ "$FRAGMENT" -nt "$dir/.config" ] || [ ! -f "$dir/.rust-fence-configured" ]; then
	msg "configuring: tinyconfig + .config.fragment"
	kmake -s tinyconfig >&2
	(cd "$dir" && ARCH=x86_64 LLVM="$LLVM_SUFFIX" ./scripts/kconfig/merge_config.sh -m .config "$FRAGMENT" >"$dir/merge.log" 2>&1) ||
		{ cat "$dir/merge.log" >&2; die "merge_config.sh failed"; }
	kmake -s olddefconfig >&2
	touch "$dir/.rust-fence-configured"
fi

# Every option of the fragment must have made it into the final .config:
# a dependency that silently turns one off would void the tests.
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF "$line" "$dir/.config" ||
			{ echo "  wanted: $line, got: $(grep -E "^(# )?${line%%=*}[= ]" "$dir/.config" || echo 'absent')" >&2; missing=1; }
		;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }; opt=${opt%% *}
		grep -q "^$opt=" "$dir/.config" &&
			{ echo "  wanted: $line, got: $(grep "^$opt=" "$dir/.config")" >&2; missing=1; }
		;;
	esac
done <"$FRAGMENT"
if [ $missing -ne 0 ]; then
	rm -f "$dir/.rust-fence-configured"
	die "options of .config.fragment did not reach the kernel .config (see above); fix their dependencies"
fi

msg "building Linux $version with -j$JOBS (about 8 minutes on 2 cores; log: $dir/build.log)"
start=$(date +%s)
kmake -j"$JOBS" bzImage modules >"$dir/build.log" 2>&1 &
pid=$!
while kill -0 $pid 2>/dev/null; do
	sleep 30
	kill -0 $pid 2>/dev/null || break
	msg "kernel build: $(find "$dir" -name '*.o' -newer "$dir/.rust-fence-configured" 2>/dev/null | wc -l) objects, $(($(date +%s) - start)) s"
done
if ! wait $pid; then
	tail -n 40 "$dir/build.log" >&2
	die "kernel build failed (full log: $dir/build.log)"
fi
msg "kernel built in $(($(date +%s) - start)) s: $(kmake -s kernelrelease)"
echo "$version" >"$stamp"
finish
