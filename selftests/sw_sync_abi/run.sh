#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The sw_sync ABI suite: runs sw_sync_abi_test, then the same ioctls from a
# 32-bit program (compat32_test), each printing TAP, against the sw_sync
# file $SW_SYNC_PATH (default: the kernel's C sw_sync). Skips (status 4,
# kselftest's KSFT_SKIP) if that file does not exist.
#
#   SW_SYNC_PATH=/sys/kernel/debug/fence_ops/sw_sync ./run.sh

here=$(dirname "$0")
SW_SYNC_PATH=${SW_SYNC_PATH:-/sys/kernel/debug/sync/sw_sync}
export SW_SYNC_PATH

if [ ! -e "$SW_SYNC_PATH" ]; then
	echo "TAP version 13"
	echo "1..0 # SKIP $SW_SYNC_PATH does not exist"
	exit 4
fi
status=0
"$here/sw_sync_abi_test" || status=1
"$here/compat32_test" || status=1
exit $status
