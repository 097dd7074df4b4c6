// SPDX-License-Identifier: GPL-2.0

// Compile-fail proof: must not build.
// expect-error: E0599
// expect-message: no method named `signal` found
// proves: a shared Fence (ARef<Fence>) cannot signal, only the issuer's DriverFence can

//! Signals a fence through a shared reference to it.

use kernel::prelude::*;
use kernel::sync::aref::ARef;
use rust_fence::Fence;

fn case(module: &'static ThisModule) -> Result {
    let registration = case_timeline(module)?;
    let timeline = registration.state();
    let driver_fence = timeline.issue(timeline.prealloc()?, ());
    let fence: ARef<Fence> = driver_fence.fence_ref();
    fence.signal();
    driver_fence.signal();
    Ok(())
}
