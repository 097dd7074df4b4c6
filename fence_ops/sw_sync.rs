// SPDX-License-Identifier: GPL-2.0

//! The sw_sync timeline of fence_ops: the same ABI and behaviour as the kernel's
//! `drivers/dma-buf/sw_sync.c`, built on rust_fence.
//!
//! A timeline has a 32-bit value; a point is a fence that signals when the value reaches it.
//! Comparisons are those of sw_sync (32-bit, modulo 2^32), the points pending on a timeline
//! are kept in an rbtree by value, and an increment signals exactly the points between the old
//! and the new value.

use core::marker::PhantomData;

use kernel::ioctl::{_IOW, _IOWR};
use kernel::prelude::*;
use kernel::rbtree::{RBTree, RBTreeNodeReservation};
use kernel::seq_file::SeqFile;
use kernel::seq_print;
use kernel::sync::aref::ARef;
use kernel::sync::atomic::{Atomic, Relaxed};
use kernel::sync::SpinLockIrq;
use kernel::uaccess::{UserPtr, UserSlice};
use rust_fence::{DriverFence, Fence, FenceOps, Provider, SyncFileFd, Timeline};

/// `struct sw_sync_create_fence_data`: `__u32 value; char name[32]; __s32 fence;`.
const CREATE_FENCE_SIZE: usize = 40;
/// `struct sw_sync_get_deadline`: `__u64 deadline_ns; __u32 pad; __s32 fence_fd;`.
pub(crate) const GET_DEADLINE_SIZE: usize = 16;

const SW_SYNC_IOC_MAGIC: u32 = b'W' as u32;
/// Creates a point (fence) on the timeline and returns a sync_file fd for it.
pub(crate) const SW_SYNC_IOC_CREATE_FENCE: u32 =
    _IOWR::<[u8; CREATE_FENCE_SIZE]>(SW_SYNC_IOC_MAGIC, 0);
/// Advances the timeline, signalling every point reached.
pub(crate) const SW_SYNC_IOC_INC: u32 = _IOW::<u32>(SW_SYNC_IOC_MAGIC, 1);
/// Reads the deadline a waiter set on a point (`SYNC_IOC_SET_DEADLINE`).
pub(crate) const SW_SYNC_GET_DEADLINE: u32 = _IOWR::<[u8; GET_DEADLINE_SIZE]>(SW_SYNC_IOC_MAGIC, 2);

/// `O_CLOEXEC`, as sw_sync opens its fence fds.
const O_CLOEXEC: u32 = 0o2000000;

/// Whether fences of a timeline keep fence_ops loaded until they are released.
pub(crate) trait Pinning: Send + Sync + 'static {
    const PINS_MODULE: bool;
}

/// Detachable fences: fence_ops may unload one grace period after they signal.
pub(crate) struct Detach;
impl Pinning for Detach {
    const PINS_MODULE: bool = false;
}

/// Module-pinning fences: `rmmod fence_ops` answers EBUSY while one is alive.
pub(crate) struct PinModule;
impl Pinning for PinModule {
    const PINS_MODULE: bool = true;
}

/// Returns whether a point is reached by the timeline value, as sw_sync compares them.
fn reached(point: u32, value: u32) -> bool {
    (point.wrapping_sub(value) as i32) <= 0
}

/// A pending point: the issuer handle of its fence.
struct Point<P: Pinning> {
    handle: DriverFence<SwSync<P>>,
}

/// The earliest deadline a waiter set on a point is kept in the fence's issuer word, which
/// outlives the point: sw_sync still reports it after the signal. Zero means none, so the
/// deadline is stored with its sign bit flipped (losing only `KTIME_MIN`).
const DEADLINE_SET: u64 = 1 << 63;

fn decode_deadline(word: u64) -> Option<i64> {
    (word != 0).then_some((word ^ DEADLINE_SET) as i64)
}

/// Records `deadline_ns` unless an earlier deadline is already there.
fn set_earliest_deadline(word: &Atomic<u64>, deadline_ns: i64) {
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
    let word = timeline.issuer_word(fence).ok_or(EINVAL)?;
    decode_deadline(word.load(Relaxed)).ok_or(ENOENT)
}

/// The data of a sw_sync timeline, reachable from its fence ops.
#[pin_data]
pub(crate) struct SwSync<P: Pinning> {
    value: Atomic<u32>,
    #[pin]
    points: SpinLockIrq<RBTree<u32, Point<P>>>,
    _p: PhantomData<P>,
}

#[vtable]
impl<P: Pinning> FenceOps for SwSync<P> {
    const PINS_MODULE: bool = P::PINS_MODULE;
    // sw_sync's points are 32-bit and wrap: merges must order them like sw_sync does.
    const SEQNO_64: bool = false;

    fn signaled(timeline: &Self, fence: &Fence) -> bool {
        reached(fence.seqno() as u32, timeline.value.load(Relaxed))
    }

    fn set_deadline(timeline: &Self, fence: &Fence, deadline_ns: i64) {
        let points = timeline.points.lock();
        if let Some(point) = points.get(&(fence.seqno() as u32)) {
            // Keep the earliest, as sw_sync does.
            set_earliest_deadline(point.handle.issuer_word(), deadline_ns);
        }
    }
}

/// A sw_sync timeline owned by an open file (or kept after close until unload).
///
/// Dropping it signals the points still pending with `-ENOENT`, as closing a sw_sync timeline
/// does.
pub(crate) struct SwTimeline<P: Pinning> {
    timeline: Timeline<SwSync<P>>,
    /// Whether a point was ever made, even by a `SW_SYNC_IOC_CREATE_FENCE` that failed after
    /// making it.
    has_points: Atomic<bool>,
}

impl<P: Pinning> SwTimeline<P> {
    /// Creates a timeline named `name` whose value starts at `value`.
    pub(crate) fn new(provider: &Provider, name: &CStr, value: u32) -> Result<Self> {
        let data = pin_init!(SwSync {
            value: Atomic::new(value),
            points <- kernel::new_spinlock_irq!(RBTree::new(), "fence_ops_sw_sync_points"),
            _p: PhantomData,
        });
        Ok(Self {
            timeline: Timeline::new(provider, c"fence_ops", name, data)?,
            has_points: Atomic::new(false),
        })
    }

    /// Returns whether a point was ever made on the timeline, pending or signalled, whatever
    /// became of the ioctl that made it.
    pub(crate) fn has_points(&self) -> bool {
        self.has_points.load(Relaxed)
    }

    /// Returns the value of the timeline.
    pub(crate) fn value(&self) -> u32 {
        self.timeline.data().value.load(Relaxed)
    }

    pub(crate) fn context(&self) -> u64 {
        self.timeline.context()
    }

    /// Returns the fence of point `value`, creating it (signalled if already reached).
    fn point(&self, value: u32) -> Result<ARef<Fence>> {
        let data = self.timeline.data();
        let slot = self.timeline.prealloc()?;
        let node = RBTreeNodeReservation::new(GFP_KERNEL)?;
        let mut points = data.points.lock();
        if let Some(point) = points.get(&value) {
            // sw_sync hands out the same fence for the same pending point.
            return Ok(point.handle.fence_ref());
        }
        let handle = self.timeline.issue_at(slot, u64::from(value), ());
        self.has_points.store(true, Relaxed);
        let fence = handle.fence_ref();
        if reached(value, data.value.load(Relaxed)) {
            handle.signal();
        } else {
            points.insert(node.into_node(value, Point { handle }));
        }
        Ok(fence)
    }

    /// `SW_SYNC_IOC_CREATE_FENCE`, in sw_sync's order: fd, copy in, fence, copy out, install.
    pub(crate) fn create_fence(&self, arg: usize) -> Result<isize> {
        let mut fd = SyncFileFd::reserve(O_CLOEXEC)?;
        let (mut reader, mut writer) =
            UserSlice::new(UserPtr::from_addr(arg), CREATE_FENCE_SIZE).reader_writer();
        let mut data = [0u8; CREATE_FENCE_SIZE];
        reader.read_slice(&mut data)?;
        let value = u32::from_ne_bytes([data[0], data[1], data[2], data[3]]);
        let fence = self.point(value)?;
        fd.attach(&fence)?;
        data[36..40].copy_from_slice(&(fd.fd() as i32).to_ne_bytes());
        writer.write_slice(&data)?;
        fd.install()?;
        Ok(0)
    }

    /// Removes and returns the first pending point in `lo..=hi`.
    fn take_point(points: &mut RBTree<u32, Point<P>>, lo: u32, hi: u32) -> Option<Point<P>> {
        let cursor = points.cursor_lower_bound_mut(&lo)?;
        if *cursor.current().0 > hi {
            return None;
        }
        Some(cursor.remove_current().1.to_key_value().1)
    }

    /// Advances the value by at most `i32::MAX` and signals the points reached.
    fn advance(&self, by: u32) {
        let data = self.timeline.data();
        let mut points = data.points.lock();
        let old = data.value.load(Relaxed);
        let new = old.wrapping_add(by);
        data.value.store(new, Relaxed);
        if by == 0 {
            return;
        }
        // The pending points are in (old, old + 2^31): those reached are in (old, new],
        // which wraps past u32::MAX when new < old + 1.
        let first = old.wrapping_add(1);
        let ranges = if first <= new {
            [(first, new), (1, 0)]
        } else {
            [(first, u32::MAX), (0, new)]
        };
        for (lo, hi) in ranges {
            if lo > hi {
                continue;
            }
            while let Some(point) = Self::take_point(&mut points, lo, hi) {
                point.handle.signal();
            }
        }
    }

    /// `SW_SYNC_IOC_INC`: increments of more than `INT_MAX` go in steps, as in sw_sync.
    pub(crate) fn inc(&self, arg: usize) -> Result<isize> {
        let mut reader = UserSlice::new(UserPtr::from_addr(arg), 4).reader();
        let mut raw = [0u8; 4];
        reader.read_slice(&mut raw)?;
        let mut by = u32::from_ne_bytes(raw);
        while by > i32::MAX as u32 {
            self.advance(i32::MAX as u32);
            by -= i32::MAX as u32;
        }
        self.advance(by);
        Ok(0)
    }

    /// Returns a new reference to the timeline, for lookups by fence context.
    pub(crate) fn timeline(&self) -> Timeline<SwSync<P>> {
        self.timeline.clone()
    }
}

/// Writes a timeline and its pending points, like `sync/info`.
pub(crate) fn show_timeline<P: Pinning>(timeline: &Timeline<SwSync<P>>, m: &SeqFile, what: &str) {
    let data = timeline.data();
    let points = data.points.lock();
    seq_print!(
        m,
        "{:?} context {} value {} {}, {}: {} pending\n",
        timeline.timeline_name(),
        timeline.context(),
        data.value.load(Relaxed),
        if P::PINS_MODULE {
            "pinned"
        } else {
            "detachable"
        },
        what,
        points.iter().count()
    );
    for (value, point) in points.iter() {
        match decode_deadline(point.handle.issuer_word().load(Relaxed)) {
            Some(d) => seq_print!(m, "  point {} deadline {} ns\n", value, d),
            None => seq_print!(m, "  point {}\n", value),
        }
    }
}

impl<P: Pinning> Drop for SwTimeline<P> {
    fn drop(&mut self) {
        let mut points = core::mem::take(&mut *self.timeline.data().points.lock());
        while let Some(value) = points.iter().next().map(|(value, _)| *value) {
            if let Some(point) = points.remove(&value) {
                point.handle.signal_with_error(ENOENT);
            }
        }
    }
}
