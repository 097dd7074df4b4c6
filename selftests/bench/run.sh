#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Benchmarks: figures printed as TAP comments, no test results.

here=$(dirname "$0")
moddir=${RF_MODDIR:-/lib/modules-rf}
export RF_MODDIR=$moddir

insmod "$moddir/rust_fence.ko" && insmod "$moddir/fence_ops.ko" || exit 1
"$here/bench"
dmesg | grep 'fence_ops: unload protocol done' | tail -n 3 | sed 's/^/# bench: kernel: /'
rmmod fence_ops
rmmod rust_fence
