#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Load and unload both modules and check what the kernel log and debugfs
# say: the library loads, fence_ops registers as a provider and serves its
# sw_sync file with the modes of the C sw_sync, the library cannot go while
# fence_ops uses it, and fence_ops runs the unload protocol.

. "$(dirname "$0")/../ktap_helpers.sh"

moddir=${RF_MODDIR:-/lib/modules-rf}
dir=/sys/kernel/debug/fence_ops

# Kernel log lines since the last mark, to match one step's messages only.
mark() { dmesg | wc -l >/tmp/rf-mark; }
since_mark() { dmesg | tail -n +$(($(cat /tmp/rf-mark) + 1)); }
log_has() { since_mark | grep -q -- "$1"; }
check() { # description, command...
	desc=$1
	shift
	if "$@"; then ktap_test_pass "$desc"; else ktap_test_fail "$desc"; fi
}

ktap_print_header
ktap_set_plan 12

mark
check "insmod rust_fence.ko loads the library" \
	sh -c "insmod $moddir/rust_fence.ko && dmesg | tail -n +$(($(cat /tmp/rf-mark) + 1)) | grep -q 'rust_fence: loaded'"

# sw_sync_dev=0: debugfs only.
check "insmod fence_ops.ko sw_sync_dev=0 serves no /dev/sw_sync" \
	sh -c "insmod $moddir/fence_ops.ko sw_sync_dev=0 && test -e $dir/sw_sync &&
		! test -e /dev/sw_sync && rmmod fence_ops"

mark
check "insmod fence_ops.ko serves $dir/sw_sync and /dev/sw_sync" \
	sh -c "insmod $moddir/fence_ops.ko && test -e $dir/sw_sync && test -c /dev/sw_sync"
# An open /dev/sw_sync is a timeline, like an open debugfs file: it keeps
# the module loaded until it is closed.
check "an open /dev/sw_sync keeps fence_ops loaded" sh -c "
	exec 3</dev/sw_sync && ! rmmod fence_ops 2>/dev/null && grep -q '^fence_ops ' /proc/modules &&
	grep -q 'detachable, open: 0 pending' $dir/info"
check "fence_ops is registered as a provider (its info file)" \
	grep -q '^provider "fence_ops": 0 issued, 0 pending, 0 pinned$' $dir/info
# The modes of sync/sw_sync and sync/info: 0644 and 0444.
check "sw_sync and info have the modes of the C sw_sync" \
	sh -c "ls -l $dir/sw_sync | grep -q '^-rw-r--r-- ' && ls -l $dir/info | grep -q '^-r--r--r-- '"

if rmmod rust_fence 2>/tmp/rf-err; then
	ktap_test_fail "rmmod rust_fence is refused while fence_ops uses it"
	insmod "$moddir/rust_fence.ko"
else
	ktap_print_msg "rmmod said: $(cat /tmp/rf-err)"
	# /proc/modules: "rust_fence <size> <refs> fence_ops, Live ..."
	check "rmmod rust_fence is refused while fence_ops uses it" \
		grep -q '^rust_fence [0-9]* 1 fence_ops,' /proc/modules
fi

# A provider built outside the tree against an installed rust_fence
# (examples/rust_provider): loads, and unloads while the library stays.
mark
check "rf_example.ko, built outside the tree, loads and issues fences" sh -c "
	insmod $(dirname "$0")/rf_example.ko &&
	dmesg | tail -n +$(($(cat /tmp/rf-mark) + 1)) | grep -q 'rf_example: issued fences'"
mark
check "rmmod rf_example cancels its pending fence; rust_fence stays" sh -c "
	rmmod rf_example &&
	dmesg | tail -n +$(($(cat /tmp/rf-mark) + 1)) |
		grep -q 'rf_example: unload protocol done.*2 issued, 1 cancelled at unload' &&
	grep -q '^rust_fence ' /proc/modules"

mark
rmmod fence_ops
check "rmmod fence_ops runs the unload protocol and removes its files" sh -c "
	dmesg | tail -n +$(($(cat /tmp/rf-mark) + 1)) | grep -q 'fence_ops: unload protocol done in' &&
	! grep -q '^fence_ops ' /proc/modules && ! test -e $dir"
check "rmmod fence_ops removes /dev/sw_sync" sh -c "! test -e /dev/sw_sync"

mark
rmmod rust_fence
check "rmmod rust_fence unloads the library" log_has 'rust_fence: unloaded'

ktap_finished
