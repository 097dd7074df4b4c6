/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ioctls of the rf_c_consumer test module: a C driver that issues fences
 * through the C API of rust_fence. Shared by the module and its test.
 */
#ifndef _RF_C_CONSUMER_H
#define _RF_C_CONSUMER_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * RF_C_IOC_ISSUE: issue a fence; returns a sync_file fd (O_CLOEXEC) for it.
 * The fd is the return value, not a field: it is installed last, after
 * everything that can fail, as an installed fd cannot be taken back.
 */
struct rf_c_issue {
	__u64 seqno;	/* out: sequence number of the fence */
};

/* RF_C_IOC_SIGNAL: signal the fence of a sequence number. */
struct rf_c_signal {
	__u64 seqno;	/* in */
	__s32 error;	/* in: 0 or a negative errno */
	__u32 pad;	/* in: must be 0 */
};

#define RF_C_IOC_MAGIC	'R'
#define RF_C_IOC_ISSUE	_IOR(RF_C_IOC_MAGIC, 1, struct rf_c_issue)
#define RF_C_IOC_SIGNAL	_IOW(RF_C_IOC_MAGIC, 2, struct rf_c_signal)

#endif /* _RF_C_CONSUMER_H */
