#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The differential fuzzer: one seeded stream of random sw_sync and sync_file
# operations applied in lockstep to the kernel's C sw_sync and to fence_ops,
# comparing every result (sw_sync_fuzz.c). Fixed seeds; RF_STRESS=full (make
# check-full) runs more operations per seed and more seeds. A divergence
# prints the command line that replays it, e.g.
#
#	sw_sync_fuzz --seed 3 --ops 1234 --log
#
# Its calls never block, so one that does is a bug: after RF_HANG_S seconds
# (120) without progress it fails with its kernel stack and fence_ops' info
# (progress_watch.sh).

here=$(dirname "$0")
moddir=${RF_MODDIR:-/lib/modules-rf}
. "$here/../include/progress_watch.sh"

insmod "$moddir/rust_fence.ko" || exit 1
insmod "$moddir/fence_ops.ko" || { rmmod rust_fence; exit 1; }

status=0
echo "# stress counts: ${RF_STRESS:-quick}"
run_watched "${RF_HANG_S:-120}" /sys/kernel/debug/fence_ops/info -- \
	"$here/sw_sync_fuzz" || status=$?

rmmod fence_ops || status=1
rmmod rust_fence || status=1
exit $status
