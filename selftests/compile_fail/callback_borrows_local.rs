// SPDX-License-Identifier: GPL-2.0

// Compile-fail proof: must not build.
// expect-error: E0373
// expect-message: closure may outlive the current function, but it borrows `count`
// proves: a fence callback cannot borrow a stack frame: a leaked registration would run it after the frame is gone

//! Registers a closure that borrows a local variable.

use kernel::prelude::*;
use kernel::sync::atomic::{
    Atomic,
    Relaxed, //
};
use rust_fence::Fence;

fn case(module: &'static ThisModule) -> Result {
    let registration = case_timeline(module)?;
    let timeline = registration.state();
    let driver_fence = timeline.issue(timeline.prealloc()?, ());
    let count = Atomic::new(0u32);
    let counter = |_: &Fence| {
        count.fetch_add(1, Relaxed);
    };
    let callback = driver_fence.fence().add_callback(counter, GFP_KERNEL)?;
    core::mem::forget(callback);
    driver_fence.signal();
    Ok(())
}
