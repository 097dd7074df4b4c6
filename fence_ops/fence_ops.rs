// SPDX-License-Identifier: GPL-2.0

//! fence_ops: a dma_fence provider built on the `rust_fence` crate.
//!
//! It issues fences from its own ops tables and unloads safely while fences it issued live on,
//! because its tables are detachable: after one RCU grace period no fence points into it.

use kernel::prelude::*;
use kernel::sync::aref::ARef;
use kernel::sync::rcu;
use rust_fence::{Fence, FenceOps, Timeline};

module! {
    type: FenceOpsModule,
    name: "fence_ops",
    authors: ["rust-fence developers"],
    description: "dma_fence provider that can unload while its fences live on",
    license: "GPL",
}

/// Per-timeline data of the provider.
struct Provider;

#[vtable]
impl FenceOps for Provider {}

struct FenceOpsModule {
    // Dropped explicitly in `Drop::drop`, before the grace period, hence the `Option`s.
    timeline: Option<Timeline<Provider>>,
    fence: Option<ARef<Fence>>,
}

impl kernel::Module for FenceOpsModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let timeline = Timeline::new(c"fence_ops", c"fence_ops-init", Provider)?;
        let slot = timeline.prealloc()?;
        let driver_fence = timeline.issue(slot, ());
        let fence = driver_fence.fence_ref();
        {
            let guard = rcu::read_lock();
            pr_info!(
                "issued fence {}:{} ({:?} on {:?})\n",
                fence.context(),
                fence.seqno(),
                fence.driver_name(&guard),
                fence.timeline_name(&guard)
            );
        }
        driver_fence.signal();
        pr_info!(
            "signalled fence {}:{}: signaled={} status={:?} attached={}\n",
            fence.context(),
            fence.seqno(),
            fence.is_signaled(),
            fence.status(),
            fence.is_attached()
        );
        Ok(FenceOpsModule {
            timeline: Some(timeline),
            fence: Some(fence),
        })
    }
}

impl Drop for FenceOpsModule {
    fn drop(&mut self) {
        drop(self.fence.take());
        drop(self.timeline.take());
        // No fence points to our ops any more (all signalled); wait for readers that loaded
        // them before, then for the RCU callbacks that free our timelines.
        rcu::synchronize_rcu();
        rcu::rcu_barrier();
        pr_info!("unloaded after one RCU grace period\n");
    }
}
