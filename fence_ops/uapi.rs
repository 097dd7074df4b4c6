// SPDX-License-Identifier: GPL-2.0

//! The userspace ABI of fence_ops: the sw_sync ioctls, with the layouts and numbers of
//! `drivers/dma-buf/sw_sync.c` (which keeps them private), and fence_ops' own ioctl.
//!
//! The argument structs are read and written whole with `UserSliceReader::read()` and
//! `UserSliceWriter::write()`, as binder's `defs.rs` does.

use kernel::ioctl::{
    _IOW,
    _IOWR, //
};
use kernel::transmute::{
    AsBytes,
    FromBytes, //
};

/// `struct sw_sync_create_fence_data`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct CreateFenceData {
    /// In: the value of the point.
    pub(crate) value: u32,
    /// In: a name, which sw_sync ignores.
    pub(crate) name: [u8; 32],
    /// Out: the sync_file fd of the point.
    pub(crate) fence: i32,
}

/// `struct sw_sync_get_deadline`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct GetDeadline {
    /// Out (must be 0 in): the earliest deadline set on the fence, `CLOCK_MONOTONIC` ns.
    pub(crate) deadline_ns: u64,
    /// In: must be 0.
    pub(crate) pad: u32,
    /// In: a sync_file fd of a sw_sync fence.
    pub(crate) fence_fd: i32,
}

// SAFETY: `repr(C)` structs of integers and bytes with no padding (checked below): every bit
// pattern is a valid value.
unsafe impl FromBytes for CreateFenceData {}
// SAFETY: As above: no padding, so every byte is initialised.
unsafe impl AsBytes for CreateFenceData {}
// SAFETY: As for `CreateFenceData`.
unsafe impl FromBytes for GetDeadline {}
// SAFETY: As for `CreateFenceData`.
unsafe impl AsBytes for GetDeadline {}

const _: () = assert!(core::mem::size_of::<CreateFenceData>() == 40);
const _: () = assert!(core::mem::size_of::<GetDeadline>() == 16);

const SW_SYNC_IOC_MAGIC: u32 = b'W' as u32;
/// Creates a point (fence) on the timeline and returns a sync_file fd for it.
pub(crate) const SW_SYNC_IOC_CREATE_FENCE: u32 = _IOWR::<CreateFenceData>(SW_SYNC_IOC_MAGIC, 0);
/// Advances the timeline, signalling every point reached.
pub(crate) const SW_SYNC_IOC_INC: u32 = _IOW::<u32>(SW_SYNC_IOC_MAGIC, 1);
/// Reads the deadline a waiter set on a point (`SYNC_IOC_SET_DEADLINE`).
pub(crate) const SW_SYNC_GET_DEADLINE: u32 = _IOWR::<GetDeadline>(SW_SYNC_IOC_MAGIC, 2);

// The numbers of the C driver, which programs written for sw_sync use.
const _: () = assert!(SW_SYNC_IOC_CREATE_FENCE == 0xc0285700);
const _: () = assert!(SW_SYNC_IOC_INC == 0x40045701);
const _: () = assert!(SW_SYNC_GET_DEADLINE == 0xc0105702);

/// `FENCE_OPS_IOC_SET_FLAGS`: `__u32` flags of the timeline of this open file.
pub(crate) const FENCE_OPS_IOC_SET_FLAGS: u32 = _IOW::<u32>(b'F' as u32, 0);
/// Use the module-pinning ops table; only before the timeline's first point (else `EBUSY`).
/// `EBUSY` too while another timeline has `FENCE_OPS_KEEP_ON_CLOSE` or a kept point is pending.
pub(crate) const FENCE_OPS_PIN_MODULE: u32 = 1 << 0;
/// On close, keep the timeline and its pending points until the module unloads, which
/// cancels them with `-ENODEV`, instead of signalling them with `-ENOENT`. Not with
/// `FENCE_OPS_PIN_MODULE` (`EINVAL`): a kept pending fence of a pinning table would hold the
/// module forever, since only the unload would cancel it. For the same reason across
/// timelines, `EBUSY` while another timeline pins the module or a pinning fence lives.
pub(crate) const FENCE_OPS_KEEP_ON_CLOSE: u32 = 1 << 1;
/// The flags `FENCE_OPS_IOC_SET_FLAGS` knows.
pub(crate) const FENCE_OPS_FLAGS: u32 = FENCE_OPS_PIN_MODULE | FENCE_OPS_KEEP_ON_CLOSE;
