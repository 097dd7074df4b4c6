#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's own sync selftests (tools/testing/selftests/sync) against
# fence_ops: its sw_sync file is bind-mounted over the C driver's, where
# they look, so they run unchanged but for the iteration counts of their
# three stress tests. Those are the kernel's with RF_STRESS=full (make
# check-full), a fraction of them otherwise (scripts/sync-stress-counts.h).
# A test that stops making progress (fence_ops' info and the test's output
# unchanged for RF_HANG_S seconds, 120) fails with the state of every
# thread and timeline (progress_watch.sh).

here=$(dirname "$0")
moddir=${RF_MODDIR:-/lib/modules-rf}
. "$here/../include/progress_watch.sh"

insmod "$moddir/rust_fence.ko" || exit 1
insmod "$moddir/fence_ops.ko" || { rmmod rust_fence; exit 1; }

status=0
if mount --bind /sys/kernel/debug/fence_ops/sw_sync /sys/kernel/debug/sync/sw_sync; then
	echo "# stress counts: ${RF_STRESS:-quick}"
	run_watched "${RF_HANG_S:-120}" /sys/kernel/debug/fence_ops/info -- \
		"$here/sync_test" || status=$?
	umount /sys/kernel/debug/sync/sw_sync || status=1
else
	status=1
fi

rmmod fence_ops || status=1
rmmod rust_fence || status=1
exit $status
