// SPDX-License-Identifier: GPL-2.0

//! Declarations of the C helpers in `rust_fence/helpers.c`.
//!
//! They wrap the `static inline` parts of
//! [`include/linux/dma-fence.h`](srctree/include/linux/dma-fence.h) and
//! [`include/linux/sync_file.h`](srctree/include/linux/sync_file.h), which
//! bindgen cannot call.

use kernel::bindings;
use kernel::prelude::*;

unsafe extern "C" {
    pub(crate) fn rust_fence_helper_get(
        fence: *mut bindings::dma_fence,
    ) -> *mut bindings::dma_fence;
    pub(crate) fn rust_fence_helper_put(fence: *mut bindings::dma_fence);
    pub(crate) fn rust_fence_helper_is_signaled(fence: *mut bindings::dma_fence) -> bool;
    pub(crate) fn rust_fence_helper_test_signaled_flag(fence: *mut bindings::dma_fence) -> bool;
    pub(crate) fn rust_fence_helper_is_later(
        f1: *mut bindings::dma_fence,
        f2: *mut bindings::dma_fence,
    ) -> bool;
    pub(crate) fn rust_fence_helper_timestamp(fence: *mut bindings::dma_fence)
        -> bindings::ktime_t;
    pub(crate) fn rust_fence_helper_signal(fence: *mut bindings::dma_fence, error: c_int) -> bool;
    pub(crate) fn rust_fence_helper_has_ops(fence: *mut bindings::dma_fence) -> bool;
    pub(crate) fn rust_fence_helper_is_container(fence: *mut bindings::dma_fence) -> bool;
    pub(crate) fn rust_fence_helper_is_chain(fence: *mut bindings::dma_fence) -> bool;
    pub(crate) fn rust_fence_helper_array_create(
        fences: *mut *mut bindings::dma_fence,
        num_fences: c_int,
    ) -> *mut bindings::dma_fence;
    pub(crate) fn rust_fence_helper_chain_create(
        prev: *mut bindings::dma_fence,
        fence: *mut bindings::dma_fence,
        seqno: u64,
    ) -> *mut bindings::dma_fence;
    // Exported by the core (drivers/dma-buf/dma-fence-unwrap.c); not in the kernel's bindings.
    pub(crate) fn dma_fence_unwrap_first(
        head: *mut bindings::dma_fence,
        cursor: *mut crate::container::UnwrapCursor,
    ) -> *mut bindings::dma_fence;
    pub(crate) fn dma_fence_unwrap_next(
        cursor: *mut crate::container::UnwrapCursor,
    ) -> *mut bindings::dma_fence;
    pub(crate) fn rust_fence_helper_sync_file_get_fence(fd: c_int) -> *mut bindings::dma_fence;
    // Returns a `struct file *`; declared as `void *` since the binding of `struct file` is
    // not FFI-safe for rustc.
    pub(crate) fn rust_fence_helper_sync_file_create(
        fence: *mut bindings::dma_fence,
    ) -> *mut c_void;
    pub(crate) fn rust_fence_helper_begin_signalling() -> bool;
    pub(crate) fn rust_fence_helper_end_signalling(cookie: bool);
    // Take a `struct module *`, as `void *`: rustc deems the binding of `struct module`
    // not FFI-safe.
    pub(crate) fn rust_fence_helper_module_put(module: *mut c_void);
    pub(crate) fn rust_fence_helper_list_init(list: *mut bindings::list_head);
    pub(crate) fn rust_fence_helper_list_add_tail(
        entry: *mut bindings::list_head,
        head: *mut bindings::list_head,
    );
    pub(crate) fn rust_fence_helper_list_del_init(entry: *mut bindings::list_head) -> bool;
    pub(crate) fn rust_fence_helper_try_module_get(module: *mut c_void) -> bool;
    pub(crate) fn rust_fence_helper_wq() -> *mut bindings::workqueue_struct;
    pub(crate) fn rust_fence_helper_free_wq_create() -> c_int;
    pub(crate) fn rust_fence_helper_watch_modules() -> c_int;
    pub(crate) fn rust_fence_helper_unwatch_modules();
    pub(crate) fn rust_fence_helper_free_wq_destroy();
    pub(crate) fn rust_fence_helper_free_wq_flush();
    pub(crate) fn rust_fence_helper_free_wq_queue(
        rwork: *mut bindings::rcu_work,
        func: unsafe extern "C" fn(*mut bindings::work_struct),
    );
}
