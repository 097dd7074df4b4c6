#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The KUnit suites of rust_fence run when the module loads (KUnit is built
# into the test kernel). Load it and print the suites' KTAP results from
# debugfs, which the host counts like any other TAP; a missing suite is a
# failure.

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
	rust_fence_signalling rust_fence_provider"
status=0
for suite in $suites; do
	if [ -f $kunit/$suite/results ]; then
		cat $kunit/$suite/results
	else
		echo "KTAP version 1"
		echo "1..1"
		echo "not ok 1 $suite # no such KUnit suite: was the module built with rust_fence_kunit?"
		status=1
	fi
done
rmmod rust_fence
exit $status
