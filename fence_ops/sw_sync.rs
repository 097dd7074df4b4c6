// SPDX-License-Identifier: GPL-2.0

//! The sw_sync timeline of fence_ops: the same ABI and behaviour as the kernel's
//! `drivers/dma-buf/sw_sync.c`, built on rust_fence.
//!
//! A timeline has a 32-bit value; a point is a fence that signals when the value reaches it.
//! Comparisons are those of sw_sync (32-bit, modulo 2^32). The points pending on a timeline are
//! owned by the rust_fence timeline itself, in the fences' own allocation (one allocation per
//! point, as sw_sync's `sync_pt`), and an increment signals exactly the points between the old
//! and the new value, in timeline order.

use kernel::bindings::O_CLOEXEC;
use kernel::prelude::*;
use kernel::seq_file::SeqFile;
use kernel::seq_print;
use kernel::sync::aref::ARef;
use kernel::sync::atomic::{
    Atomic,
    Relaxed, //
};
use kernel::uaccess::{
    UserPtr,
    UserSlice, //
};
use rust_fence::{
    Fence,
    FenceOps,
    IssuedFence,
    Provider,
    SyncFileFd,
    Timeline,
    TimelineOptions, //
};

use crate::uapi::CreateFenceData;

/// Returns whether a point is reached by the timeline value, as sw_sync compares them.
fn reached(point: u32, value: u32) -> bool {
    (point.wrapping_sub(value) as i32) <= 0
}

/// The earliest deadline a waiter set on a point is kept in the fence's issuer word, which
/// outlives the point: sw_sync still reports it after the signal. Zero means none, so the
/// deadline is stored with its sign bit flipped; `KTIME_MIN`, whose word would be zero, is the
/// fence's issuer flag instead (it is the earliest, so no later deadline replaces it).
const DEADLINE_SET: u64 = 1 << 63;

fn decode_deadline(word: u64) -> Option<i64> {
    (word != 0).then_some((word ^ DEADLINE_SET) as i64)
}

/// Returns the deadline recorded on a point, if any.
fn deadline(fence: &IssuedFence) -> Option<i64> {
    if fence.issuer_flag() {
        return Some(i64::MIN);
    }
    decode_deadline(fence.issuer_word().load(Relaxed))
}

/// Records `deadline_ns` unless an earlier deadline is already there.
fn set_earliest_deadline(fence: &IssuedFence, deadline_ns: i64) {
    if deadline_ns == i64::MIN {
        fence.set_issuer_flag(true);
        return;
    }
    let word = fence.issuer_word();
    let mut cur = word.load(Relaxed);
    loop {
        if decode_deadline(cur).is_some_and(|d| d <= deadline_ns) {
            return;
        }
        match word.cmpxchg(cur, (deadline_ns as u64) ^ DEADLINE_SET, Relaxed) {
            Ok(_) => return,
            Err(old) => cur = old,
        }
    }
}

/// Returns the deadline set on a fence of `timeline`: `EINVAL` if the fence is not one of its
/// points, `ENOENT` if no deadline was set.
pub(crate) fn deadline_of<T: FenceOps>(timeline: &Timeline<T>, fence: &Fence) -> Result<i64> {
    deadline(timeline.issued(fence).ok_or(EINVAL)?).ok_or(ENOENT)
}

/// The data of a sw_sync timeline, reachable from its fence ops.
pub(crate) struct SwSync {
    value: Atomic<u32>,
}

#[vtable]
impl FenceOps for SwSync {
    // sw_sync's points are 32-bit and wrap: merges must order them like sw_sync does.
    const SEQNO_64: bool = false;

    fn signaled(timeline: &Self, fence: &IssuedFence) -> bool {
        reached(fence.seqno() as u32, timeline.value.load(Relaxed))
    }

    fn set_deadline(_timeline: &Self, fence: &IssuedFence, deadline_ns: i64) {
        // Keep the earliest, as sw_sync does. The core calls the op only while the fence is
        // pending.
        set_earliest_deadline(fence, deadline_ns);
    }
}

/// A sw_sync timeline owned by an open file (or kept after close until unload).
///
/// Dropping it signals the points still pending with `-ENOENT`, as closing a sw_sync timeline
/// does.
pub(crate) struct SwTimeline {
    timeline: Timeline<SwSync>,
    /// Whether a point was ever made, even by a `SW_SYNC_IOC_CREATE_FENCE` that failed after
    /// making it.
    has_points: Atomic<bool>,
}

impl SwTimeline {
    /// Creates a timeline named `name` whose value starts at `value`, whose fences pin
    /// fence_ops until they are released if `pinned` (`FENCE_OPS_PIN_MODULE`).
    pub(crate) fn new(provider: &Provider, name: &CStr, value: u32, pinned: bool) -> Result<Self> {
        let data = SwSync {
            value: Atomic::new(value),
        };
        let options = TimelineOptions::new::<SwSync>().pins_module(pinned);
        Ok(Self {
            timeline: Timeline::with_options(provider, c"fence_ops", name, data, options)?,
            has_points: Atomic::new(false),
        })
    }

    /// Returns whether the fences of the timeline pin fence_ops until they are released.
    pub(crate) fn is_pinned(&self) -> bool {
        self.timeline.pins_module()
    }

    /// Returns whether a point was ever made on the timeline, pending or signalled, whatever
    /// became of the ioctl that made it.
    pub(crate) fn has_points(&self) -> bool {
        self.has_points.load(Relaxed)
    }

    /// Returns whether a point of the timeline is pending.
    pub(crate) fn has_pending_points(&self) -> bool {
        let mut pending = false;
        self.timeline.for_each_owned(|_| pending = true);
        pending
    }

    /// Returns the value of the timeline.
    pub(crate) fn value(&self) -> u32 {
        self.timeline.data().value.load(Relaxed)
    }

    pub(crate) fn context(&self) -> u64 {
        self.timeline.context()
    }

    /// Returns the fence of point `value`, creating it (signalled if already reached).
    ///
    /// The ioctls of a timeline are serialised by its file, so no increment runs meanwhile.
    fn point(&self, value: u32) -> Result<ARef<Fence>> {
        // sw_sync hands out the same fence for the same pending point, while anyone holds it.
        // Its point dies with the last reference, and a new one has no deadline; ours stays on
        // the timeline, so it starts over as that new point.
        if let Some((fence, shared)) = self.timeline.find_owned_seqno_shared(u64::from(value)) {
            if let (false, Some(point)) = (shared, self.timeline.issued(&fence)) {
                point.issuer_word().store(0, Relaxed);
                point.set_issuer_flag(false);
            }
            return Ok(fence);
        }
        let slot = self.timeline.prealloc()?;
        let handle = self.timeline.issue_at(slot, u64::from(value), ());
        self.has_points.store(true, Relaxed);
        let fence = handle.fence_ref();
        if reached(value, self.value()) {
            handle.signal();
        } else {
            handle.into_timeline();
        }
        Ok(fence)
    }

    /// `SW_SYNC_IOC_CREATE_FENCE`, in sw_sync's order: fd, copy in, fence, copy out, install.
    pub(crate) fn create_fence(&self, arg: usize) -> Result<isize> {
        let mut fd = SyncFileFd::reserve(O_CLOEXEC)?;
        let (mut reader, mut writer) =
            UserSlice::new(UserPtr::from_addr(arg), size_of::<CreateFenceData>()).reader_writer();
        let mut data: CreateFenceData = reader.read()?;
        let fence = self.point(data.value)?;
        fd.attach(&fence)?;
        data.fence = fd.fd() as i32;
        writer.write(&data)?;
        fd.install()?;
        Ok(0)
    }

    /// Advances the value by at most `i32::MAX` and signals the points reached: the pending
    /// points are in (old, old + 2^31), so those reached are in (old, new].
    fn advance(&self, by: u32) {
        let value = &self.timeline.data().value;
        let new = value.load(Relaxed).wrapping_add(by);
        value.store(new, Relaxed);
        if by != 0 {
            self.timeline
                .signal_owned_while(Ok(()), |f| reached(f.seqno() as u32, new));
        }
    }

    /// `SW_SYNC_IOC_INC`: increments of more than `INT_MAX` go in steps, as in sw_sync.
    pub(crate) fn inc(&self, arg: usize) -> Result<isize> {
        let mut by: u32 = UserSlice::new(UserPtr::from_addr(arg), size_of::<u32>())
            .reader()
            .read()?;
        while by > i32::MAX as u32 {
            self.advance(i32::MAX as u32);
            by -= i32::MAX as u32;
        }
        self.advance(by);
        Ok(0)
    }

    /// Returns a new reference to the timeline, for lookups by fence context.
    pub(crate) fn timeline(&self) -> Timeline<SwSync> {
        self.timeline.clone()
    }
}

/// Writes a timeline and its pending points by increasing value, like `sync/info`.
///
/// Fails with `ENOMEM`, and the read of `info` with it, if the points cannot be sorted: a read
/// that succeeds shows every point.
pub(crate) fn show_timeline(timeline: &Timeline<SwSync>, m: &SeqFile, what: &str) -> Result {
    let value = timeline.data().value.load(Relaxed);
    let mut count = 0usize;
    timeline.for_each_owned(|_| count += 1);
    seq_print!(
        m,
        "{:?} context {} value {} {}, {}: {} pending\n",
        timeline.timeline_name(),
        timeline.context(),
        value,
        if timeline.pins_module() {
            "pinned"
        } else {
            "detachable"
        },
        what,
        count
    );
    // The points with their deadlines, copied out of the timeline's lock, in value order: the
    // timeline keeps its points in that order; a point made meanwhile is left out.
    let mut points = KVec::<(u32, Option<i64>)>::with_capacity(count, GFP_KERNEL)?;
    timeline.for_each_owned(|f| {
        let _ = points.push_within_capacity((f.seqno() as u32, deadline(f)));
    });
    for (point, deadline) in points.iter() {
        match deadline {
            Some(d) => seq_print!(m, "  point {} deadline {} ns\n", point, d),
            None => seq_print!(m, "  point {}\n", point),
        }
    }
    Ok(())
}

impl Drop for SwTimeline {
    fn drop(&mut self) {
        // Closing a sw_sync timeline signals its pending points with -ENOENT.
        self.timeline.signal_owned_where(Err(ENOENT), |_| true);
    }
}
