#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Benchmarks: figures printed as TAP comments, no test results; the suite
# passes if they could be taken. They take minutes under TCG with the debug
# options (100000 fences), so only with RF_STRESS=full (make check-full);
# otherwise the suite skips.

here=$(dirname "$0")
moddir=${RF_MODDIR:-/lib/modules-rf}
export RF_MODDIR=$moddir

if [ "${RF_STRESS:-quick}" != full ]; then
	echo "TAP version 13"
	echo "1..0 # SKIP the benchmarks run with RF_STRESS=full (make check-full)"
	exit 4
fi

insmod "$moddir/rust_fence.ko" || exit 1
insmod "$moddir/fence_ops.ko" || { rmmod rust_fence; exit 1; }

status=0
"$here/bench" || status=1
dmesg | grep 'fence_ops: unload protocol done' | tail -n 3 | sed 's/^/# bench: kernel: /'
rmmod fence_ops || status=1
rmmod rust_fence || status=1
exit $status
