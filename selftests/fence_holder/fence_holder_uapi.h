/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ioctls of the fence_holder test module: an in-kernel holder of fences
 * (references and callbacks), kept across the unload of their issuer.
 * Each open of the misc device is a holder of its own; closing it drops
 * what it still holds.
 */
#ifndef _FENCE_HOLDER_UAPI_H
#define _FENCE_HOLDER_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define FENCE_HOLDER_PATH	"/dev/fence_holder"

/* Take a reference to the fence of a sync_file fd and a callback on it. */
#define FENCE_HOLDER_IOC_HOLD		_IOW('H', 0, __s32)

/* Wait (1 s at most each) for the held fences, report, then drop them all. */
struct fence_holder_report {
	__u32 held;		/* fences held */
	__u32 signalled;	/* of which signalled after the wait */
	__u32 callbacks;	/* callbacks that ran, or were handed back on a signalled fence */
	__s32 errors;		/* fences that completed with an error */
	__s32 last_error;	/* the last such error (negative errno), or 0 */
	__u32 pad;
};

#define FENCE_HOLDER_IOC_WAIT_DROP	_IOR('H', 1, struct fence_holder_report)

#endif /* _FENCE_HOLDER_UAPI_H */
