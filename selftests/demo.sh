#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The `make run` scenario: load the library and fence_ops, let a program
# hold sync_file fds of fence_ops fences while fence_ops is unloaded
# (fence_ops/demo.c), then show the kernel log lines of each step.

here=$(dirname "$0")
moddir=${RF_MODDIR:-/lib/modules-rf}
export RF_MODDIR=$moddir
run() { printf '$ %s\n' "$*"; "$@"; }

printf '\n### Load the library (Rust crate + C API) and the fence_ops provider\n'
run insmod "$moddir/rust_fence.ko" || exit 1
run insmod "$moddir/fence_ops.ko" || exit 1
run cat /sys/kernel/debug/fence_ops/info

"$here/fence_ops/demo" || exit 1

printf '\n### The kernel log, with what rust_fence counted at the unload\n'
dmesg | grep -E 'rust_fence|fence_ops' | grep -v 'Subtest\|# \|ok [0-9]' | sed 's/^/    kernel: /'
run rmmod fence_ops
run rmmod rust_fence
