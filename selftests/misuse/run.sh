#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Misuse of rust_fence in safe code, module by module (rf_misuse.ko): the
# unloads the library refuses or makes safe. Unloading rust_fence at the end
# waits for every RCU callback and timeline free, so a late one shows in
# this suite's part of the kernel log.

here=$(dirname "$0")
moddir=${RF_MODDIR:-/lib/modules-rf}
export RF_MODDIR=$moddir

insmod "$moddir/rust_fence.ko" || exit 1
"$here/misuse_test"
status=$?
rmmod rust_fence
sleep 2
exit $status
