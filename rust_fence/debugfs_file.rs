// SPDX-License-Identifier: GPL-2.0

//! debugfs files whose opens are Rust objects: ioctl files and seq_file "show" files.
//!
//! C header: [`include/linux/debugfs.h`](srctree/include/linux/debugfs.h)
//!
//! The kernel crate's debugfs API has no ioctl and no per-open state, which a file like
//! sw_sync's (one timeline per open, driven by ioctls) needs. A [`DebugfsFile<T>`] creates a
//! file whose `file_operations` are generated from the [`FileOps`] implementation `T`, with the
//! implementing module as owner: an open file keeps that module loaded. Removing the file
//! (dropping the [`DebugfsFile`]) waits for running operations; files still open afterwards get
//! `-EIO` from the core, and their `release` still runs, so each open holds its own reference to
//! the file's context.

use core::marker::PhantomData;
use core::pin::Pin;
use core::ptr;

use kernel::bindings;
use kernel::module::this_module;
use kernel::prelude::*;
use kernel::seq_file::SeqFile;
use kernel::sync::Arc;
use kernel::types::ForeignOwnable;

/// Operations of a debugfs file.
///
/// A file either has `open` (and then `ioctl`; each open is a `Self`, dropped at close), or
/// `show` (a read-only text file through `seq_file`), not both.
#[vtable]
pub trait FileOps: Sized + Send + Sync + 'static {
    /// Data shared by all opens of the file, given when the file is created.
    type Context: Send + Sync;

    /// Opens the file: the returned object lives until the file is closed.
    fn open(_ctx: &Arc<Self::Context>) -> Result<Pin<KBox<Self>>> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Handles an ioctl; `arg` is the raw argument, usually a user pointer.
    fn ioctl(&self, _cmd: u32, _arg: usize) -> Result<isize> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Writes the whole content of a read-only file.
    fn show(_ctx: &Self::Context, _m: &SeqFile) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}

/// A debugfs directory, removed with its content when dropped.
///
/// # Invariants
///
/// `dentry` is NULL, an error pointer, or a directory created by `debugfs_create_dir` that this
/// object removes once.
pub struct DebugfsDir {
    dentry: *mut bindings::dentry,
}

// SAFETY: A dentry pointer may be used and removed from any thread.
unsafe impl Send for DebugfsDir {}
// SAFETY: Shared access only passes the pointer to debugfs, which has its own locking.
unsafe impl Sync for DebugfsDir {}

impl DebugfsDir {
    /// Creates directory `name` at the debugfs root. Like all debugfs calls, failures are not
    /// reported: debugfs is for debugging and must not change how the driver works.
    pub fn new(name: &CStr) -> Self {
        // SAFETY: `name` is NUL-terminated; a NULL parent is the debugfs root.
        let dentry = unsafe { bindings::debugfs_create_dir(name.as_char_ptr(), ptr::null_mut()) };
        // INVARIANT: The directory was just created (or is an error pointer).
        Self { dentry }
    }
}

impl Drop for DebugfsDir {
    fn drop(&mut self) {
        // SAFETY: By the type invariants; `debugfs_remove` ignores NULL and error pointers.
        unsafe { bindings::debugfs_remove(self.dentry) };
    }
}

/// A debugfs file implemented by `T`, removed when dropped.
///
/// # Invariants
///
/// `dentry` was created with `T`'s file operations and with `ctx` (from `Arc::into_foreign`) as
/// its private data; this object owns that reference and removes the file once.
pub struct DebugfsFile<T: FileOps> {
    dentry: *mut bindings::dentry,
    ctx: *mut c_void,
    _t: PhantomData<T>,
}

// SAFETY: See `DebugfsDir`; the context is `Send + Sync`.
unsafe impl<T: FileOps> Send for DebugfsFile<T> {}
// SAFETY: See `DebugfsDir`.
unsafe impl<T: FileOps> Sync for DebugfsFile<T> {}

impl<T: FileOps> DebugfsFile<T> {
    /// Creates file `name` with permissions `mode` in `dir`.
    pub fn new(dir: &DebugfsDir, name: &CStr, mode: u16, ctx: Arc<T::Context>) -> Self {
        let ctx = ctx.into_foreign();
        // The parent is a debugfs directory (or an error pointer, which debugfs handles), the fops
        // are a `'static` table, and `ctx` stays valid until `drop` removed the file.
        // SAFETY: `name` is NUL-terminated and every pointer is valid.
        let dentry = unsafe {
            bindings::debugfs_create_file_full(
                name.as_char_ptr(),
                mode,
                dir.dentry,
                ctx,
                ptr::null(),
                &FopsTable::<T>::FOPS,
            )
        };
        // INVARIANT: Created above with `T`'s fops and `ctx`.
        Self {
            dentry,
            ctx,
            _t: PhantomData,
        }
    }
}

impl<T: FileOps> Drop for DebugfsFile<T> {
    fn drop(&mut self) {
        // Removal waits for running operations and keeps new ones out, so nothing uses the context
        // through the inode any more.
        // SAFETY: By the type invariants `dentry` is ours to remove, once.
        unsafe { bindings::debugfs_remove(self.dentry) };
        // SAFETY: The reference came from `into_foreign` in `new`.
        drop(unsafe { Arc::<T::Context>::from_foreign(self.ctx) });
    }
}

struct FopsTable<T: FileOps>(PhantomData<T>);

impl<T: FileOps> FopsTable<T> {
    const FOPS: bindings::file_operations = bindings::file_operations {
        open: if T::HAS_SHOW {
            Some(Self::open_show)
        } else {
            Some(Self::open)
        },
        release: if T::HAS_SHOW {
            Some(bindings::single_release)
        } else {
            Some(Self::release)
        },
        read: if T::HAS_SHOW {
            Some(bindings::seq_read)
        } else {
            None
        },
        llseek: if T::HAS_SHOW {
            Some(bindings::seq_lseek)
        } else {
            None
        },
        unlocked_ioctl: if T::HAS_IOCTL {
            Some(Self::ioctl)
        } else {
            None
        },
        compat_ioctl: if T::HAS_IOCTL {
            bindings::compat_ptr_ioctl
        } else {
            None
        },
        owner: this_module::<T::OwnerModule>().as_ptr(),
        ..pin_init::zeroed()
    };

    /// Borrows the context stored in the inode.
    ///
    /// # Safety
    ///
    /// `inode` must be the inode of a live `DebugfsFile<T>`, as it is during `open`.
    unsafe fn context<'a>(inode: *mut bindings::inode) -> ArcBorrowed<'a, T> {
        // SAFETY: The private data of the inode is the context set by `DebugfsFile::new`.
        unsafe { <Arc<T::Context> as ForeignOwnable>::borrow((*inode).i_private) }
    }

    /// # Safety
    ///
    /// Called by the VFS for a file of this table.
    unsafe extern "C" fn open(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: The debugfs proxy only calls `open` while the file exists.
        let ctx = unsafe { Self::context(inode) };
        let this = match T::open(&ctx.into()) {
            Ok(this) => this,
            Err(e) => return e.to_errno(),
        };
        // SAFETY: `file` is being opened; its private data is ours until `release`.
        unsafe { (*file).private_data = this.into_foreign() };
        0
    }

    /// # Safety
    ///
    /// Called by the VFS for a file opened by `open`.
    unsafe extern "C" fn release(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: The private data was set by `open` from a `Pin<KBox<T>>`.
        drop(unsafe { Pin::<KBox<T>>::from_foreign((*file).private_data) });
        0
    }

    /// # Safety
    ///
    /// Called by the VFS for a file opened by `open`.
    unsafe extern "C" fn ioctl(file: *mut bindings::file, cmd: c_uint, arg: c_ulong) -> c_long {
        // SAFETY: The private data was set by `open` and lives until `release`.
        let this = unsafe { <Pin<KBox<T>> as ForeignOwnable>::borrow((*file).private_data) };
        match T::ioctl(&this, cmd, arg) {
            Ok(ret) => ret as c_long,
            Err(e) => e.to_errno() as c_long,
        }
    }

    /// # Safety
    ///
    /// Called by the VFS when a show file is opened.
    unsafe extern "C" fn open_show(
        inode: *mut bindings::inode,
        file: *mut bindings::file,
    ) -> c_int {
        // The inode's private data is our context, which lives while the file exists (reads of
        // removed files get -EIO from the proxy).
        // SAFETY: `file` is being opened and the context outlives it.
        unsafe { bindings::single_open(file, Some(Self::show), (*inode).i_private) }
    }

    /// # Safety
    ///
    /// Called by `seq_read` with the data passed to `single_open`.
    unsafe extern "C" fn show(m: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
        // SAFETY: `single_open` stored the context pointer in `m->private`.
        let ctx = unsafe { <Arc<T::Context> as ForeignOwnable>::borrow((*m).private) };
        // SAFETY: `m` is valid for the duration of this call.
        let seq = unsafe { SeqFile::from_raw(m) };
        match T::show(&ctx, seq) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }
}

type ArcBorrowed<'a, T> = kernel::sync::ArcBorrow<'a, <T as FileOps>::Context>;
