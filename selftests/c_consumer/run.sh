#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The C driver suite: load rust_fence and the C driver rf_c_consumer (whose
# init checks that misuse of the C API is refused), run the userspace test
# (which unloads the driver with fences held), load and unload it again.

here=$(dirname "$0")
moddir=${RF_MODDIR:-/lib/modules-rf}

insmod "$moddir/rust_fence.ko" || exit 1
if ! insmod "$here/rf_c_consumer.ko"; then
	echo "TAP version 13"
	echo "1..1"
	echo "not ok 1 rf_c_consumer loads (its init checks misuse of the C API)"
	rmmod rust_fence
	exit 1
fi
status=0
"$here/c_consumer_test" || status=1

# Load again after the unload: nothing was left behind.
. "$here/../ktap_helpers.sh"
ktap_print_header
ktap_set_plan 1
if insmod "$here/rf_c_consumer.ko" && rmmod rf_c_consumer && rmmod rust_fence; then
	ktap_test_pass "rf_c_consumer loads and unloads again"
else
	ktap_test_fail "rf_c_consumer loads and unloads again"
	status=1
fi
exit $status
