// SPDX-License-Identifier: GPL-2.0

// Compile-fail proof: must not build.
// expect-error: E0407 E0438
// (E0438 comes with it: `#[vtable]` also emits `const HAS_WAIT` for the extra method.)
// expect-message: method `wait` is not a member of trait `FenceOps`
// proves: FenceOps offers no wait op, so an issuer cannot pin its fences to its module

//! Implements a `wait` fence op, which `FenceOps` does not offer.

use kernel::prelude::*;
use rust_fence::{
    Fence,
    FenceOps,
    Interruptible, //
};

struct Waiting;

#[vtable]
impl FenceOps for Waiting {
    fn wait(_timeline: &Self, _fence: &Fence, _intr: Interruptible, timeout: i64) -> i64 {
        timeout
    }
}

fn case(_module: &'static ThisModule) -> Result {
    Ok(())
}
