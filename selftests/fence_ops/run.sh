#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The fence_ops suites: the sw_sync ABI suite and its 32-bit part against
# fence_ops (the same binaries that pass against the kernel's C sw_sync),
# the kernel's own sync selftests against fence_ops (bind-mounted over
# sync/sw_sync, so they run unchanged), and the unload scenarios.

here=$(dirname "$0")
moddir=${RF_MODDIR:-/lib/modules-rf}
export RF_MODDIR=$moddir

insmod "$moddir/rust_fence.ko" && insmod "$moddir/fence_ops.ko" &&
	insmod "$moddir/fence_holder.ko" || exit 1

export SW_SYNC_PATH=/sys/kernel/debug/fence_ops/sw_sync SW_SYNC_DRIVER=fence_ops
"$here/../sw_sync_abi/sw_sync_abi_test"
"$here/../sw_sync_abi/compat32_test"
unset SW_SYNC_PATH SW_SYNC_DRIVER

if [ "${RF_KERNEL_SYNC_TESTS:-yes}" = yes ]; then
	mount --bind /sys/kernel/debug/fence_ops/sw_sync /sys/kernel/debug/sync/sw_sync &&
		"$here/sync_test"
	umount /sys/kernel/debug/sync/sw_sync
fi

"$here/unload_test"

rmmod fence_holder
rmmod fence_ops
rmmod rust_fence
