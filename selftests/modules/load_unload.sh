#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Load and unload both modules and check what the kernel log says: the
# library loads, the provider issues and signals a fence that detaches from
# its ops, the library cannot go while the provider uses it, and the
# provider unloads after an RCU grace period.

. "$(dirname "$0")/../ktap_helpers.sh"

moddir=${RF_MODDIR:-/lib/modules-rf}

# Kernel log lines since the last mark, to match one step's messages only.
mark() { dmesg | wc -l >/tmp/rf-mark; }
since_mark() { dmesg | tail -n +$(($(cat /tmp/rf-mark) + 1)); }
log_has() { since_mark | grep -q -- "$1"; }

ktap_print_header
ktap_set_plan 6

mark
if insmod "$moddir/rust_fence.ko" && log_has 'rust_fence: loaded'; then
	ktap_test_pass "insmod rust_fence.ko loads the library"
else
	ktap_test_fail "insmod rust_fence.ko loads the library"
fi

mark
if insmod "$moddir/fence_ops.ko" && log_has 'fence_ops: issued fence [0-9]*:1 ("fence_ops" on "fence_ops-init")'; then
	ktap_test_pass "insmod fence_ops.ko issues a fence with the provider's names"
else
	ktap_test_fail "insmod fence_ops.ko issues a fence with the provider's names"
fi

if log_has 'fence_ops: signalled fence [0-9]*:1: signaled=true status=Some(Ok(())) attached=false'; then
	ktap_test_pass "the provider signals the fence and it detaches from the ops"
else
	ktap_test_fail "the provider signals the fence and it detaches from the ops"
fi

if rmmod rust_fence 2>/tmp/rf-err; then
	ktap_test_fail "rmmod rust_fence is refused while fence_ops uses it"
	insmod "$moddir/rust_fence.ko"
else
	ktap_print_msg "rmmod said: $(cat /tmp/rf-err)"
	# /proc/modules: "rust_fence <size> <refs> fence_ops, Live ..."
	if grep -q '^rust_fence [0-9]* 1 fence_ops,' /proc/modules; then
		ktap_test_pass "rmmod rust_fence is refused while fence_ops uses it"
	else
		ktap_test_fail "rmmod rust_fence is refused while fence_ops uses it"
	fi
fi

mark
if rmmod fence_ops && log_has 'fence_ops: unloaded after one RCU grace period' &&
	! grep -q '^fence_ops ' /proc/modules; then
	ktap_test_pass "rmmod fence_ops unloads the provider after a grace period"
else
	ktap_test_fail "rmmod fence_ops unloads the provider after a grace period"
fi

mark
if rmmod rust_fence && log_has 'rust_fence: unloaded'; then
	ktap_test_pass "rmmod rust_fence unloads the library"
else
	ktap_test_fail "rmmod rust_fence unloads the library"
fi

ktap_finished
