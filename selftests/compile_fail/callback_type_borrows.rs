// SPDX-License-Identifier: GPL-2.0

// Compile-fail proof: must not build.
// expect-error: E0478 E0803
// expect-message: lifetime bound not satisfied
// proves: a callback type cannot hold a borrow: FenceCallbackFn requires 'static data

//! Implements `FenceCallbackFn` for a type that borrows.

use kernel::prelude::*;
use rust_fence::{
    Fence,
    FenceCallbackFn, //
};

struct Borrowing<'a>(&'a u32);

impl<'a> FenceCallbackFn for Borrowing<'a> {
    fn signalled(&self, _fence: &Fence) {
        pr_info!("{}\n", self.0);
    }
}

fn case(_module: &'static ThisModule) -> Result {
    Ok(())
}
