// SPDX-License-Identifier: GPL-2.0

// Positive control of the compile-fail proofs: the API used correctly.
// expect: ok
// proves: the harness builds a correct user of rust_fence, so the failures are real

//! Uses each part of the `rust_fence` API that the compile-fail cases misuse.

use kernel::prelude::*;
use kernel::sync::aref::ARef;
use kernel::sync::rcu;
use rust_fence::{
    Fence,
    FenceCallbackFn,
    Registration,
    SignallingSection, //
};

fn require_send<T: Send>(_: T) {}

/// A callback that owns what it uses.
struct Owned(KBox<u32>);

impl FenceCallbackFn for Owned {
    fn signalled(&self, _fence: &Fence) {
        pr_info!("{}\n", *self.0);
    }
}

fn case(module: &'static ThisModule) -> Result {
    let registration = case_timeline(module)?;
    let timeline = registration.state();
    // A slot allocated in a submit ioctl may be used to issue in a job run on another thread.
    let slot = timeline.prealloc()?;
    require_send(timeline.prealloc()?);
    let driver_fence = timeline.issue(slot, ());
    let fence: ARef<Fence> = driver_fence.fence_ref();
    // A shared fence may be sent to another thread, the section guard may not.
    require_send(fence.clone());
    {
        let guard = rcu::read_lock();
        let name = fence.driver_name(&guard);
        pr_info!("{:?}\n", name);
        drop(guard);
    }
    let callback = fence.add_callback(Owned(KBox::new(7, GFP_KERNEL)?), GFP_KERNEL)?;
    let moved = move |_: &Fence| pr_info!("{}\n", 7);
    let closure = fence.add_callback(moved, GFP_KERNEL)?;
    let section = SignallingSection::begin();
    driver_fence.signal();
    drop(section);
    if let (Registration::Pending(c), Registration::Pending(d)) = (callback, closure) {
        drop((c, d));
    }
    pr_info!("signalled: {}\n", fence.is_signaled());
    Ok(())
}
