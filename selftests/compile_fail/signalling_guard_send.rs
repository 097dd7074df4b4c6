// SPDX-License-Identifier: GPL-2.0

// Compile-fail proof: must not build.
// expect-error: E0277
// expect-message: within `SignallingSection`, the trait `Send` is not implemented
// proves: a SignallingSection is not Send, it cannot end on another task

//! Hands a `SignallingSection` to a function that requires `Send`.

use kernel::prelude::*;
use rust_fence::SignallingSection;

/// Stands for any API that may move its argument to another thread (a workqueue item).
fn require_send<T: Send>(_: T) {}

fn case(_module: &'static ThisModule) -> Result {
    let section = SignallingSection::begin();
    require_send(section);
    Ok(())
}
