// SPDX-License-Identifier: GPL-2.0

//! The fixture of rust_fence's KUnit suites, built with `--cfg rust_fence_kunit`.
//!
//! Each file of the crate has its suite next to its code (`#[kunit_tests(rust_fence_<file>)]`);
//! together they cover, through the Rust types, what the kernel's own `dma-buf-fence` suite
//! (drivers/dma-buf/st-dma-fence.c) covers for C fences, plus what only this crate promises.
//! This module holds what they share: test issuers, work items and counters.

use kernel::prelude::*;
use kernel::sync::atomic::{
    Atomic,
    Relaxed, //
};
use kernel::sync::{
    Arc,
    Completion,
    Mutex, //
};
use kernel::workqueue::{
    impl_has_work,
    Work,
    WorkItem, //
};

use crate::{
    DriverFence,
    Fence,
    FenceOps,
    IssuedFence,
    Timeline, //
};

/// A callback counting its runs.
pub(crate) fn counter() -> Result<Arc<Atomic<i32>>> {
    Ok(Arc::new(Atomic::new(0), GFP_KERNEL)?)
}

pub(crate) fn count_into(runs: &Arc<Atomic<i32>>) -> impl Fn(&Fence) + Send + Sync {
    let runs = runs.clone();
    move |_fence: &Fence| {
        runs.fetch_add(1, Relaxed);
    }
}

/// A work item for `QueueWorkOnSignal`.
#[pin_data]
pub(crate) struct Job {
    #[pin]
    pub(crate) work: Work<Job>,
    #[pin]
    pub(crate) done: Completion,
}

impl_has_work! {
    impl HasWork<Self> for Job { self.work }
}

impl WorkItem for Job {
    type Pointer = Arc<Job>;

    fn run(this: Arc<Job>) {
        this.done.complete_all();
    }
}

/// A work item that signals a fence, queued by a callback of another fence.
#[pin_data]
pub(crate) struct SignalJob {
    #[pin]
    pub(crate) work: Work<SignalJob>,
    #[pin]
    pub(crate) fence: Mutex<Option<DriverFence<TestOps>>>,
}

impl_has_work! {
    impl HasWork<Self> for SignalJob { self.work }
}

impl WorkItem for SignalJob {
    type Pointer = Arc<SignalJob>;

    fn run(this: Arc<SignalJob>) {
        let fence = this.fence.lock().take();
        if let Some(fence) = fence {
            fence.signal();
        }
    }
}

/// Test issuer: records deadlines and answers `signaled` from a flag.
pub(crate) struct TestOps {
    pub(crate) deadline: Atomic<i64>,
    pub(crate) done: Atomic<bool>,
}

#[vtable]
impl FenceOps for TestOps {
    fn signaled(timeline: &Self, _fence: &IssuedFence) -> bool {
        timeline.done.load(Relaxed)
    }

    fn set_deadline(timeline: &Self, _fence: &IssuedFence, deadline_ns: i64) {
        timeline.deadline.store(deadline_ns, Relaxed);
    }
}

/// Test issuer with a module-pinning table.
pub(crate) struct PinnedOps;

#[vtable]
impl FenceOps for PinnedOps {
    const PINS_MODULE: bool = true;
}

/// Test issuer with a 32-bit counter, like sw_sync.
pub(crate) struct Seqno32Ops;

#[vtable]
impl FenceOps for Seqno32Ops {
    const SEQNO_64: bool = false;
}

/// References held on this module (rust_fence) once the timeline frees in flight are done.
pub(crate) fn module_refs() -> i32 {
    // SAFETY: No preconditions; the tests run in process context.
    unsafe { crate::ffi::rust_fence_helper_free_wq_flush() };
    let module = kernel::module::this_module::<crate::RustFenceModule>().as_ptr();
    // SAFETY: `module` is this module, which is loaded while its tests run.
    unsafe { kernel::bindings::module_refcount(module) }
}

/// A timeline whose sequence numbers wrap at 32 bits.
pub(crate) fn timeline32() -> Result<Timeline<Seqno32Ops>> {
    Timeline::new(
        &crate::library_provider()?,
        c"rust_fence_test",
        c"seqno32",
        Seqno32Ops,
    )
}

pub(crate) fn timeline() -> Result<Timeline<TestOps>> {
    Timeline::new(
        &crate::library_provider()?,
        c"rust_fence_test",
        c"kunit",
        TestOps {
            deadline: Atomic::new(0),
            done: Atomic::new(false),
        },
    )
}
