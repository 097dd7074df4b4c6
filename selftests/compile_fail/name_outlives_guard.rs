// SPDX-License-Identifier: GPL-2.0

// Compile-fail proof: must not build.
// expect-error: E0505
// expect-message: cannot move out of `guard` because it is borrowed
// proves: a fence's driver name cannot outlive the RCU read section it was read in

//! Uses the name returned by `Fence::driver_name` after ending the RCU read section.

use kernel::prelude::*;
use kernel::sync::rcu;

fn case(module: &'static ThisModule) -> Result {
    let registration = case_timeline(module)?;
    let timeline = registration.state();
    let driver_fence = timeline.issue(timeline.prealloc()?, ());
    let fence = driver_fence.fence_ref();
    driver_fence.signal();
    let guard = rcu::read_lock();
    let name = fence.driver_name(&guard);
    drop(guard);
    pr_info!("{:?}\n", name);
    Ok(())
}
