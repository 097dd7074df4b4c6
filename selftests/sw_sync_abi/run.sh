#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The sw_sync ABI suite: runs sw_sync_abi_test, which prints TAP, against
# the sw_sync file $SW_SYNC_PATH (default: the kernel's C sw_sync). Skips
# (status 4, kselftest's KSFT_SKIP) if that file does not exist.
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
exec "$here/sw_sync_abi_test"
