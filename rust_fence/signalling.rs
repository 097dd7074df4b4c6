// SPDX-License-Identifier: GPL-2.0

//! Fence signalling critical sections, for lockdep.
//!
//! C header: [`include/linux/dma-fence.h`](srctree/include/linux/dma-fence.h)
//!
//! Code between `dma_fence_begin_signalling()` and `dma_fence_end_signalling()` is on the path
//! that signals fences: it must not wait for fences or take locks held while waiting for them.
//! With lockdep, the kernel reports violations. The state is per task, so the guard is neither
//! `Send` nor `Sync`: it cannot end the section on another thread.

use kernel::types::NotThreadSafe;

/// A fence signalling critical section, ended when dropped.
///
/// # Invariants
///
/// `cookie` was returned by `dma_fence_begin_signalling()` on the current task, and the section
/// has not been ended yet.
pub struct SignallingSection {
    cookie: bool,
    _not_send: NotThreadSafe,
}

impl SignallingSection {
    /// Begins a signalling critical section on the current task.
    #[must_use = "the section ends when the guard is dropped"]
    pub fn begin() -> Self {
        // SAFETY: No preconditions; the cookie is handed back in `drop`.
        let cookie = unsafe { crate::ffi::rust_fence_helper_begin_signalling() };
        // INVARIANT: The section was begun above, on this task.
        Self {
            cookie,
            _not_send: NotThreadSafe,
        }
    }
}

impl Drop for SignallingSection {
    fn drop(&mut self) {
        // SAFETY: By the type invariants the cookie is from this task's open section.
        unsafe { crate::ffi::rust_fence_helper_end_signalling(self.cookie) };
    }
}

#[cfg(rust_fence_kunit)]
#[kernel::prelude::kunit_tests(rust_fence_signalling)]
mod tests {
    use kernel::prelude::*;

    use crate::kunit::timeline;
    use crate::SignallingSection;

    #[test]
    fn signalling_section() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let shared = f.fence_ref();
        {
            let _section = SignallingSection::begin();
            f.signal();
        }
        assert!(shared.is_signaled());
        Ok(())
    }
}
