#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The KUnit suites of rust_fence run when the module loads (KUnit is built
# into the test kernel, and make check builds the module with
# RUST_FENCE_KUNIT=y). Load it and print the suites' KTAP results from
# debugfs, which the host counts like any other TAP; fail if one failed.

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

if [ ! -f $kunit/rust_fence/results ]; then
	echo "KTAP version 1"
	echo "1..1"
	echo "not ok 1 rust_fence_kunit # no KUnit suite: was the module built with RUST_FENCE_KUNIT=y?"
	rmmod rust_fence
	exit 1
fi

status=0
cat $kunit/rust_fence/results
! grep -q 'not ok' $kunit/rust_fence/results || status=1
rmmod rust_fence || status=1
exit $status
