// SPDX-License-Identifier: GPL-2.0

// Compile-fail proof: must not build.
// expect-error: E0505
// expect-message: cannot move out of `fence` because it is borrowed
// proves: a fence's name cannot outlive the fence reference it was read from, even inside the RCU read section (an issuer may free its names in release)

//! Drops the fence reference, then uses its name inside the same RCU read section.

use kernel::prelude::*;
use kernel::sync::rcu;

fn case(module: &'static ThisModule) -> Result {
    let registration = case_timeline(module)?;
    let timeline = registration.state();
    let driver_fence = timeline.issue(timeline.prealloc()?, ());
    let fence = driver_fence.fence_ref();
    let guard = rcu::read_lock();
    let name = fence.timeline_name(&guard);
    drop(fence);
    pr_info!("{:?}\n", name);
    drop(guard);
    driver_fence.signal();
    Ok(())
}
