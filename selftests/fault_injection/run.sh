#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Fault injection (failslab and fail-nth) into every ioctl path of
# fence_ops, the C API of rust_fence (through the C driver rf_c_consumer)
# and the init of the three modules: see fault_injection_test.c. Prints per
# path the number of injection points tried.
#
# The KUnit suites built into rust_fence.ko (make check) would run at each
# of its loads: they are filtered out meanwhile, and the filter put back.

here=$(dirname "$0")
export RF_MODDIR=${RF_MODDIR:-/lib/modules-rf}

glob=/sys/module/kunit/parameters/filter_glob
old=
if [ -w $glob ]; then
	old=$(cat $glob)
	echo rf_fault_injection_none >$glob
fi

# Each failed module load and each unload waits for RCU grace periods,
# slow under TCG: expedite them meanwhile (the same guarantees, sooner).
exp=/sys/kernel/rcu_expedited
old_exp=
if [ -w $exp ]; then
	old_exp=$(cat $exp)
	echo 1 >$exp
fi

"$here/fault_injection_test" "$here/../c_consumer/rf_c_consumer.ko"
status=$?

[ -z "$old_exp" ] || echo "$old_exp" >$exp

if [ -n "$old" ]; then
	# "(null)" is no filter, as "*.*" is.
	[ "$old" = "(null)" ] && old='*.*'
	echo "$old" >$glob
fi
# Whatever a failure left loaded: the next suite starts with none.
for m in rf_c_consumer fence_ops rust_fence; do
	[ ! -e /sys/module/$m/initstate ] || rmmod $m
done
exit $status
