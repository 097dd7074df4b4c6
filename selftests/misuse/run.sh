#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Misuse of rust_fence in safe code, module by module (rf_misuse.ko): the
# unloads the library refuses or makes safe. Unloading rust_fence at the end
# waits for every RCU callback and timeline free, so a late one shows in
# this suite's part of the kernel log.
#
# Three scenarios leak on purpose, with mem::forget(), which safe Rust may
# do: the test is that the leak cannot lead to freed code or memory. What
# they leak stays allocated for good, so the suite declares it to the VM's
# final kmemleak scan (scripts/guest-init.sh), which reports any object
# of this suite's process beyond these as a leak:
#   leaked_callback_pins_its_module: the callback registration, the fence
#     reference it holds (the C sw_sync point) and the point's reference
#     to its sw_sync timeline: 3 objects;
#   leaked_callback_of_a_failed_init: the same 3 objects as the first;
#   leaked_registration: the provider (its shared part and its name), and
#     through the forgotten fence handle the fence and its timeline (the
#     timeline, its driver and timeline names): 6 objects.
# kmemleak may miss some of them (a stale copy of a pointer keeps an
# object referenced), never find more.

here=$(dirname "$0")
moddir=${RF_MODDIR:-/lib/modules-rf}
export RF_MODDIR=$moddir

echo "misuse_test 12" >>/tmp/rf-expected-leaks

insmod "$moddir/rust_fence.ko" || exit 1
"$here/misuse_test"
status=$?
rmmod rust_fence
sleep 2
exit $status
