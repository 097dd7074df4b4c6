// SPDX-License-Identifier: GPL-2.0

//! The name of the current task, which sw_sync gives the timelines it creates.
//!
//! C header: [`include/linux/sched.h`](srctree/include/linux/sched.h)
//!
//! `kernel::task::Task` has no accessor for `comm` in Linux 7.3, and reading the field through
//! the bindings is not an option: they get the offsets of `struct task_struct` wrong in some
//! configurations (see `helpers.c`). So a C helper of this module copies it, as
//! `get_task_comm()` does.

use kernel::bindings;
use kernel::prelude::*;
use kernel::str::CString;

unsafe extern "C" {
    /// Copies `current->comm` into `buf`, `TASK_COMM_LEN` bytes, NUL-terminated and padded.
    fn fence_ops_current_comm(buf: *mut c_char);
}

/// Returns the name (`comm`) of the current task, as `get_task_comm()` copies it.
pub(crate) fn current_task_name() -> Result<CString> {
    let mut buf = [0u8; bindings::TASK_COMM_LEN as usize];
    // SAFETY: `buf` has room for the `TASK_COMM_LEN` bytes the helper writes.
    unsafe { fence_ops_current_comm(buf.as_mut_ptr().cast()) };
    let name = CStr::from_bytes_until_nul(&buf).map_err(|_| EINVAL)?;
    Ok(CString::try_from(name)?)
}
