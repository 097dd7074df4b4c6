// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of fence_ops, for what its Rust code cannot reach through the
 * kernel crate (declared in task.rs).
 */

#include <linux/sched.h>
#include <linux/string.h>

void fence_ops_current_comm(char buf[TASK_COMM_LEN]);

/*
 * Copies the name of the current task into @buf, NUL-padded, as sw_sync
 * names its timelines. The Rust bindings cannot be trusted with the layout of
 * struct task_struct: with CONFIG_SCHEDSTATS=n, bindgen drops the cacheline
 * alignment of the empty struct sched_statistics, and every field after it is
 * at the wrong offset on the Rust side.
 */
void fence_ops_current_comm(char buf[TASK_COMM_LEN])
{
	strscpy_pad(buf, current->comm, TASK_COMM_LEN);
}
