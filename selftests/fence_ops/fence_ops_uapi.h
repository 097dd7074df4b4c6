/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The ioctl fence_ops adds to the sw_sync ABI of its timeline file
 * /sys/kernel/debug/fence_ops/sw_sync (see Documentation/fence_ops.rst).
 */
#ifndef _FENCE_OPS_UAPI_H
#define _FENCE_OPS_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define FENCE_OPS_SW_SYNC_PATH	"/sys/kernel/debug/fence_ops/sw_sync"
#define FENCE_OPS_INFO_PATH	"/sys/kernel/debug/fence_ops/info"

/*
 * FENCE_OPS_IOC_SET_FLAGS: flags of the timeline of this open file.
 *
 * FENCE_OPS_PIN_MODULE: the timeline's fences use the module-pinning ops
 * table: they keep fence_ops loaded until their last reference is gone.
 * Changing it replaces the timeline (keeping its value), so it is refused
 * with EBUSY once a point was made on the timeline, even by a
 * SW_SYNC_IOC_CREATE_FENCE that failed afterwards.
 *
 * FENCE_OPS_KEEP_ON_CLOSE: closing the file keeps the timeline and its
 * pending points until fence_ops unloads, which cancels them with -ENODEV,
 * instead of signalling them with -ENOENT.
 *
 * Unknown flags, and both flags together (a kept pending fence of a pinning
 * timeline would keep fence_ops loaded forever): EINVAL.
 */
#define FENCE_OPS_IOC_SET_FLAGS	_IOW('F', 0, __u32)
#define FENCE_OPS_PIN_MODULE	(1U << 0)
#define FENCE_OPS_KEEP_ON_CLOSE	(1U << 1)

#endif /* _FENCE_OPS_UAPI_H */
