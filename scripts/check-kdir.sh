#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Check that KDIR is a configured and built Linux 7.3 tree with Rust, so a
# bad KDIR fails with a message that says what to do instead of deep in Kbuild.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${1:-}
[ -n "$kdir" ] || die "no KDIR: run 'make kernel' to build the test kernel, or pass KDIR=<a Rust-enabled Linux $KERNEL_SERIES build tree>"
[ -d "$kdir" ] || die "KDIR=$kdir does not exist: run 'make kernel' for the test kernel, or pass the build tree of a Rust-enabled Linux $KERNEL_SERIES kernel"
[ -f "$kdir/Makefile" ] || die "KDIR=$kdir is not a kernel build tree (no Makefile)"
[ -f "$kdir/.config" ] || die "KDIR=$kdir is not configured (no .config)"
grep -qx 'CONFIG_RUST=y' "$kdir/.config" ||
	die "KDIR=$kdir has no CONFIG_RUST=y: rust_fence needs a kernel built with Rust support (make kernel builds one)"
grep -qx 'CONFIG_MODULES=y' "$kdir/.config" || die "KDIR=$kdir has no CONFIG_MODULES=y"
grep -qx 'CONFIG_SYNC_FILE=y' "$kdir/.config" || die "KDIR=$kdir has no CONFIG_SYNC_FILE=y, which rust_fence needs"
[ -f "$kdir/rust/libkernel.rmeta" ] ||
	die "KDIR=$kdir has no Rust metadata (rust/libkernel.rmeta): build the kernel first ('make -C $kdir LLVM=$LLVM_SUFFIX'); distribution headers do not ship it"
[ -f "$kdir/Module.symvers" ] || die "KDIR=$kdir has no Module.symvers: build the kernel (and its modules) first"
ver=$(sed -n 's/^VERSION = //p;s/^PATCHLEVEL = //p' "$kdir/Makefile" | paste -sd.)
[ "$ver" = "$KERNEL_SERIES" ] || msg "warning: KDIR=$kdir is Linux $ver; rust_fence targets $KERNEL_SERIES"
exit 0
