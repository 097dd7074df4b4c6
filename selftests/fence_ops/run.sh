#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The fence_ops suites: the sw_sync ABI suite and its 32-bit part against
# fence_ops (the same binaries that pass against the kernel's C sw_sync)
# and the unload scenarios. The kernel's sync selftests against fence_ops
# are sync/run.sh.

here=$(dirname "$0")
moddir=${RF_MODDIR:-/lib/modules-rf}
export RF_MODDIR=$moddir

insmod "$moddir/rust_fence.ko" || exit 1
insmod "$moddir/fence_ops.ko" || { rmmod rust_fence; exit 1; }
insmod "$moddir/fence_holder.ko" || { rmmod fence_ops; rmmod rust_fence; exit 1; }

status=0
# The same ABI through debugfs and through the misc device.
for path in /sys/kernel/debug/fence_ops/sw_sync /dev/sw_sync; do
	echo "# sw_sync ABI through $path"
	export SW_SYNC_PATH=$path SW_SYNC_DRIVER=fence_ops
	"$here/../sw_sync_abi/sw_sync_abi_test" || status=1
	"$here/../sw_sync_abi/compat32_test" || status=1
done
unset SW_SYNC_PATH SW_SYNC_DRIVER

"$here/unload_test" || status=1

rmmod fence_holder || status=1
rmmod fence_ops || status=1
rmmod rust_fence || status=1
exit $status
