#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The KUnit suites of rust_fence run when the module loads (KUnit is built
# into the test kernel, and make check builds the module with
# RUST_FENCE_KUNIT=y). Load it and print the suites' KTAP results from
# debugfs, which the host counts like any other TAP; fail if a suite is
# missing or failed.

moddir=${RF_MODDIR:-/lib/modules-rf}
kunit=/sys/kernel/debug/kunit

if [ ! -d $kunit ]; then
	echo "KTAP version 1"
	echo "1..0 # SKIP KUnit debugfs not available (CONFIG_KUNIT_DEBUGFS)"
	exit 4
fi

if ! insmod "$moddir/rust_fence.ko"; then
	echo "KTAP version 1"
	echo "1..1"
	echo "not ok 1 rust_fence_kunit # insmod rust_fence.ko failed"
	exit 1
fi

# One suite per file of the crate, next to the code it tests.
suites="rust_fence_fence rust_fence_timeline rust_fence_ops rust_fence_callback
	rust_fence_signalling rust_fence_provider rust_fence_container"
status=0
for suite in $suites; do
	if [ -f $kunit/$suite/results ]; then
		cat $kunit/$suite/results
		! grep -q 'not ok' $kunit/$suite/results || status=1
	else
		echo "KTAP version 1"
		echo "1..1"
		echo "not ok 1 $suite # no such KUnit suite: was the module built with RUST_FENCE_KUNIT=y?"
		status=1
	fi
done
rmmod rust_fence || status=1
exit $status
