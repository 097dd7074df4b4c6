// SPDX-License-Identifier: GPL-2.0

// Compile-fail proof: must not build.
// expect-error: E0382
// expect-message: use of moved value: `driver_fence`
// proves: DriverFence::signal() consumes the handle, a fence cannot be signalled twice

//! Signals the same `DriverFence` twice.

use kernel::prelude::*;

fn case(module: &'static ThisModule) -> Result {
    let registration = case_timeline(module)?;
    let timeline = registration.state();
    let driver_fence = timeline.issue(timeline.prealloc()?, ());
    driver_fence.signal();
    driver_fence.signal();
    Ok(())
}
