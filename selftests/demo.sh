#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The `make run` scenario, narrated: load the library and the provider,
# which issues and signals a fence, then unload the provider and show the
# kernel log lines that prove each step.

moddir=${RF_MODDIR:-/lib/modules-rf}
step() { printf '\n### %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
klog() { dmesg | grep -E 'rust_fence|fence_ops' | sed 's/^/    kernel: /'; }

step "1. Load the library: safe dma_fence abstractions (Rust crate + C API)"
run insmod "$moddir/rust_fence.ko" || exit 1
step "2. Load the provider: it issues a fence on its timeline and signals it"
run insmod "$moddir/fence_ops.ko" || exit 1
run grep -E '^(rust_fence|fence_ops) ' /proc/modules
step "3. The library cannot unload while the provider uses its Rust API"
run rmmod rust_fence && exit 1
step "4. Unload the provider: its fences detached on signal, one RCU grace period suffices"
run rmmod fence_ops || exit 1
run rmmod rust_fence || exit 1
step "Kernel log"
klog
