#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fence_ops unloaded and loaded again, cycle after cycle, while worker
# processes create, merge (also with C sw_sync fences), poll, wait on and
# hold sync_files of its fences and the in-kernel holder keeps references
# and callbacks on them (unload_race.c). 25 cycles, or 200 with
# RF_STRESS=full. Replay a failure with the seed and counts it prints:
#
#   RF_SEED=1 RF_UNLOAD_CYCLES=25 RF_UNLOAD_WORKERS=4 ./run.sh

here=$(dirname "$0")
moddir=${RF_MODDIR:-/lib/modules-rf}
export RF_MODDIR=$moddir

insmod "$moddir/rust_fence.ko" || exit 1
insmod "$moddir/fence_holder.ko" || { rmmod rust_fence; exit 1; }
insmod "$moddir/fence_ops.ko" || { rmmod fence_holder; rmmod rust_fence; exit 1; }

"$here/unload_race"
status=$?

# unload_race leaves fence_ops unloaded, unless it failed.
if [ -e /sys/module/fence_ops ]; then
	rmmod fence_ops || status=1
fi
rmmod fence_holder || status=1
rmmod rust_fence || status=1
exit $status
