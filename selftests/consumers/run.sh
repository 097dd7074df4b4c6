#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Kernel consumers of fences across the unload of their provider: a
# dma-buf reservation object (udmabuf) and DRM syncobjs (rf_drm_syncobj.ko,
# a DRM device with syncobjs only), with fences of fence_ops and of the C
# driver rf_c_consumer (the C API of rust_fence).

here=$(dirname "$0")
moddir=${RF_MODDIR:-/lib/modules-rf}
export RF_MODDIR=$moddir
export RF_C_CONSUMER_KO="$here/../c_consumer/rf_c_consumer.ko"

status=0
for m in "$moddir/rust_fence.ko" "$moddir/fence_ops.ko" "$RF_C_CONSUMER_KO" \
	"$here/rf_drm_syncobj.ko"; do
	insmod "$m" || status=1
done
[ $status -eq 0 ] && { "$here/consumers_test" || status=1; }

for m in rf_drm_syncobj rf_c_consumer fence_ops rust_fence; do
	grep -q "^$m " /proc/modules && { rmmod $m || status=1; }
done
exit $status
