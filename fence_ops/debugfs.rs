// SPDX-License-Identifier: GPL-2.0

//! The debugfs files of fence_ops: ioctl files whose opens are Rust objects, and read-only
//! text files.
//!
//! C header: [`include/linux/debugfs.h`](srctree/include/linux/debugfs.h)
//!
//! The kernel crate's `kernel::debugfs` has no ioctl and no per-open state, which the sw_sync
//! file needs (one timeline per open, driven by ioctls). Its read-only files do not fit either:
//! their `file_operations` have no `owner`, so nothing keeps this module loaded while one is
//! open, and closing it after `rmmod` would read the freed table. So fence_ops has its own:
//!
//! - A [`Dir`] is a directory at the debugfs root. Each [`File`] holds a reference to it, so a
//!   directory is removed only after the files in it.
//! - [`File::ioctl`] creates a file whose every open is an [`IoctlFile`] object, and
//!   [`File::show`] a read-only text file written by a [`ShowFile`]. Two traits, two tables of
//!   operations: a file has either ioctls or a `seq_file`, never both by mistake.
//! - The files are made with `debugfs_create_file_unsafe()`, without debugfs's full proxy,
//!   whose table has no `compat_ioctl`: the table of an ioctl file has `compat_ptr_ioctl`, like
//!   the C sw_sync's, so 32-bit programs get the same ioctls as 64-bit ones.
//! - Without the proxy, nothing stops an operation on an open file from running after the file
//!   was removed. So only `open` looks at the inode's private data (the context the file was
//!   created with), inside `debugfs_file_get()`/`debugfs_file_put()`, and gives the new open its
//!   own reference to what it needs; `ioctl`, `read` and `release` use that reference only.
//! - The tables have this module as `owner`: an open file keeps the module loaded, so its
//!   `release` never runs after the module is gone.

use core::marker::PhantomData;
use core::pin::Pin;
use core::ptr;

use kernel::bindings;
use kernel::module::this_module;
use kernel::prelude::*;
use kernel::seq_file::SeqFile;
use kernel::sync::{
    Arc,
    ArcBorrow, //
};
use kernel::types::ForeignOwnable;

/// A file driven by ioctls: each open is a `Self`, dropped when the file is closed.
#[vtable]
pub(crate) trait IoctlFile: Sized + Send + Sync + 'static {
    /// Data shared by the opens of the file, given when the file is created.
    type Context: Send + Sync + 'static;

    /// Opens the file. The result is all that the open's ioctls and close see: it takes a
    /// reference to the context (`ctx.into()`) if it needs one.
    fn open(ctx: ArcBorrow<'_, Self::Context>) -> Result<Pin<KBox<Self>>>;

    /// Handles an ioctl; `arg` is the raw argument, usually a user pointer (converted by
    /// `compat_ptr()` for 32-bit callers).
    fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize>;
}

/// A read-only text file.
#[vtable]
pub(crate) trait ShowFile: 'static {
    /// The data the file shows, given when the file is created.
    type Context: Send + Sync + 'static;

    /// Writes the whole content of the file.
    fn show(ctx: &Self::Context, m: &SeqFile) -> Result;
}

/// A directory at the debugfs root.
///
/// # Invariants
///
/// `dentry` is NULL, an error pointer, or a directory made by `debugfs_create_dir()` that this
/// object removes, once, when it is dropped.
struct DirEntry {
    dentry: *mut bindings::dentry,
}

// SAFETY: A dentry may be used and removed from any thread: debugfs has its own locking.
unsafe impl Send for DirEntry {}
// SAFETY: `&DirEntry` only reads the pointer, to pass it to debugfs.
unsafe impl Sync for DirEntry {}

impl Drop for DirEntry {
    fn drop(&mut self) {
        // SAFETY: By the type invariants `dentry` is NULL, an error pointer (which
        // `debugfs_remove()` ignores) or our directory, removed only here.
        unsafe { bindings::debugfs_remove(self.dentry) };
    }
}

/// A directory at the debugfs root, removed when the last handle to it and the last [`File`]
/// in it are gone.
#[derive(Clone)]
pub(crate) struct Dir(Arc<DirEntry>);

impl Dir {
    /// Creates directory `name` at the debugfs root.
    ///
    /// Unlike most debugfs users, fails if the directory cannot be made (`ENOMEM`, or `ENODEV`
    /// without debugfs): the files in it are all the module serves, and a module loaded without
    /// them would look as if it worked.
    pub(crate) fn new(name: &CStr) -> Result<Self> {
        // SAFETY: `name` is NUL-terminated; a NULL parent is the debugfs root.
        let dentry = unsafe { bindings::debugfs_create_dir(name.as_char_ptr(), ptr::null_mut()) };
        let dentry = kernel::error::from_err_ptr(dentry)?;
        // INVARIANT: Made by `debugfs_create_dir()` above, removed only by `DirEntry::drop`. If
        // the allocation fails, that drop removes it at once.
        Ok(Self(Arc::new(DirEntry { dentry }, GFP_KERNEL)?))
    }
}

/// A debugfs file, removed when dropped; `C` is the context it was created with.
///
/// # Invariants
///
/// - `dentry` is NULL, an error pointer, or a file made by `debugfs_create_file_unsafe()` in the
///   directory of `_dir`, whose inode's private data is `ctx`, removed only by `drop`.
/// - `ctx` comes from `Arc::<C>::into_foreign()`; this object owns that reference and gives it
///   back in `drop`, after the file was removed.
pub(crate) struct File<C: Send + Sync + 'static> {
    dentry: *mut bindings::dentry,
    ctx: *mut c_void,
    _dir: Dir,
    _ctx: PhantomData<Arc<C>>,
}

// SAFETY: The file may be removed from any thread, and it owns an `Arc<C>` with `C: Send + Sync`.
unsafe impl<C: Send + Sync + 'static> Send for File<C> {}
// SAFETY: `&File` gives access to nothing.
unsafe impl<C: Send + Sync + 'static> Sync for File<C> {}

impl<C: Send + Sync + 'static> File<C> {
    /// Creates `name` in `dir`, a file whose every open is a `T` made by [`IoctlFile::open`].
    pub(crate) fn ioctl<T: IoctlFile<Context = C>>(
        dir: &Dir,
        name: &CStr,
        mode: u16,
        ctx: Arc<C>,
    ) -> Result<Self> {
        Self::create(dir, name, mode, ctx, &IoctlTable::<T>::FOPS)
    }

    /// Creates `name` in `dir`, a read-only file written by [`ShowFile::show`].
    pub(crate) fn show<T: ShowFile<Context = C>>(
        dir: &Dir,
        name: &CStr,
        mode: u16,
        ctx: Arc<C>,
    ) -> Result<Self> {
        Self::create(dir, name, mode, ctx, &ShowTable::<T>::FOPS)
    }

    /// `fops` must be a table that reads the inode's private data as an `Arc<C>` foreign
    /// pointer, only in `open` (within `debugfs_file_get()`), as both tables of this file do:
    /// it is private, so that only those two can be passed.
    ///
    /// Fails if the file cannot be made (`ENOMEM`), as [`Dir::new`] does.
    fn create(
        dir: &Dir,
        name: &CStr,
        mode: u16,
        ctx: Arc<C>,
        fops: &'static bindings::file_operations,
    ) -> Result<Self> {
        let ctx = ctx.into_foreign();
        // SAFETY: `name` is NUL-terminated. The parent is our directory: `dir` keeps it alive
        // while the file exists. `fops` is `'static` and reads the private data as `ctx`, which
        // stays valid until `drop` removed the file.
        let dentry = unsafe {
            bindings::debugfs_create_file_unsafe(name.as_char_ptr(), mode, dir.0.dentry, ctx, fops)
        };
        let dentry = match kernel::error::from_err_ptr(dentry) {
            Ok(dentry) => dentry,
            Err(e) => {
                // SAFETY: `ctx` came from `into_foreign()` above, and no file was made with it.
                drop(unsafe { Arc::<C>::from_foreign(ctx) });
                return Err(e);
            }
        };
        // INVARIANT: Made above in `dir` with `ctx`, from `into_foreign()`.
        Ok(Self {
            dentry,
            ctx,
            _dir: dir.clone(),
            _ctx: PhantomData,
        })
    }
}

impl<C: Send + Sync + 'static> Drop for File<C> {
    fn drop(&mut self) {
        // SAFETY: By the type invariants `dentry` is NULL, an error pointer or our file, removed
        // only here. Removal waits for the opens running under `debugfs_file_get()`, and makes
        // later ones fail: no one reads the private data afterwards.
        unsafe { bindings::debugfs_remove(self.dentry) };
        // SAFETY: `ctx` came from `into_foreign()` (type invariants), and the file that used it
        // is gone.
        drop(unsafe { Arc::<C>::from_foreign(self.ctx) });
        // `_dir` is dropped next, which removes the directory if this was its last file.
    }
}

/// Runs `f` with a borrow of the context of the debugfs file being opened.
///
/// # Safety
///
/// `file` must be a file being opened (in `file_operations::open`) of a [`File<C>`].
unsafe fn with_context<C: Send + Sync + 'static, R>(
    inode: *mut bindings::inode,
    file: *mut bindings::file,
    f: impl FnOnce(ArcBorrow<'_, C>) -> Result<R>,
) -> Result<R> {
    // SAFETY: `file` is valid (function safety requirements), and the path of a file is set
    // before it is opened and stays the same. `f_path` is a member of an anonymous union of
    // `struct file`, whose other member, `__f_path`, is the same `struct path`.
    let dentry = unsafe { (*file).__bindgen_anon_1.f_path.dentry };
    // SAFETY: `dentry` is the dentry of a debugfs file; the open proxy of debugfs made its
    // `d_fsdata` before calling our `open`, so `debugfs_file_get()` can use it.
    kernel::error::to_result(unsafe { bindings::debugfs_file_get(dentry) })?;
    // SAFETY: Until `debugfs_file_put()`, the file cannot be removed, so the `File<C>` that
    // created it still owns the `Arc<C>` reference stored, from `into_foreign()`, in the
    // inode's private data (its type invariants).
    let ctx = unsafe { <Arc<C> as ForeignOwnable>::borrow((*inode).i_private) };
    let ret = f(ctx);
    // SAFETY: Paired with the `debugfs_file_get()` above; `f` could not keep `ctx`.
    unsafe { bindings::debugfs_file_put(dentry) };
    ret
}

/// The `file_operations` of an ioctl file of `T`.
struct IoctlTable<T: IoctlFile>(PhantomData<T>);

impl<T: IoctlFile> IoctlTable<T> {
    const FOPS: bindings::file_operations = bindings::file_operations {
        owner: this_module::<T::OwnerModule>().as_ptr(),
        open: Some(Self::open),
        release: Some(Self::release),
        unlocked_ioctl: Some(Self::ioctl),
        // `compat_ptr()` on the argument, then `unlocked_ioctl`: the sw_sync structures have
        // the same layout for 32-bit and 64-bit programs, as for the C sw_sync.
        compat_ioctl: bindings::compat_ptr_ioctl,
        ..pin_init::zeroed()
    };

    /// # Safety
    ///
    /// Called by the VFS to open a file made by [`File::ioctl`] with `T`.
    unsafe extern "C" fn open(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: `file` is being opened, and it is a file of a `File<T::Context>`.
        match unsafe { with_context::<T::Context, _>(inode, file, |ctx| T::open(ctx)) } {
            Ok(this) => {
                // SAFETY: `file` is being opened: its private data is ours until `release`.
                unsafe { (*file).private_data = this.into_foreign() };
                0
            }
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Called by the VFS to release a file opened by [`Self::open`].
    unsafe extern "C" fn release(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: `open` succeeded, so the private data is a `Pin<KBox<T>>` from
        // `into_foreign()`, which the release takes back, once.
        drop(unsafe { Pin::<KBox<T>>::from_foreign((*file).private_data) });
        0
    }

    /// # Safety
    ///
    /// Called by the VFS for an ioctl on a file opened by [`Self::open`].
    unsafe extern "C" fn ioctl(file: *mut bindings::file, cmd: c_uint, arg: c_ulong) -> c_long {
        // SAFETY: `open` set the private data to a `Pin<KBox<T>>`, which `release` frees only
        // after the last ioctl has returned.
        let this = unsafe { <Pin<KBox<T>> as ForeignOwnable>::borrow((*file).private_data) };
        match T::ioctl(&this, cmd, arg) {
            Ok(ret) => ret as c_long,
            Err(e) => e.to_errno() as c_long,
        }
    }
}

/// The `file_operations` of a read-only file of `T`, through `seq_file`.
struct ShowTable<T: ShowFile>(PhantomData<T>);

impl<T: ShowFile> ShowTable<T> {
    const FOPS: bindings::file_operations = bindings::file_operations {
        owner: this_module::<T::OwnerModule>().as_ptr(),
        open: Some(Self::open),
        release: Some(Self::release),
        read: Some(bindings::seq_read),
        llseek: Some(bindings::seq_lseek),
        ..pin_init::zeroed()
    };

    /// # Safety
    ///
    /// Called by the VFS to open a file made by [`File::show`] with `T`.
    unsafe extern "C" fn open(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: `file` is being opened, and it is a file of a `File<T::Context>`.
        let ctx = unsafe { with_context::<T::Context, _>(inode, file, |c| Ok(Arc::from(c))) };
        let ctx = match ctx {
            Ok(ctx) => ctx.into_foreign(),
            Err(e) => return e.to_errno(),
        };
        // SAFETY: `file` is being opened. `single_open()` stores `ctx`, this open's own
        // reference, in the `seq_file` for `show`; `release` gives it back.
        let ret = unsafe { bindings::single_open(file, Some(Self::show), ctx) };
        if ret != 0 {
            // SAFETY: `single_open()` failed, so nothing else has `ctx`, from `into_foreign()`.
            drop(unsafe { Arc::<T::Context>::from_foreign(ctx) });
        }
        ret
    }

    /// # Safety
    ///
    /// Called by the VFS to release a file opened by [`Self::open`].
    unsafe extern "C" fn release(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: `open` succeeded, so the private data of `file` is the `seq_file` made by
        // `single_open()`, whose private data is the reference `open` gave it.
        let ctx = unsafe { (*(*file).private_data.cast::<bindings::seq_file>()).private };
        // SAFETY: `file` was opened by `single_open()` and is being released.
        let ret = unsafe { bindings::single_release(inode, file) };
        // SAFETY: `ctx` came from `into_foreign()` in `open`; the `seq_file` is gone, so no
        // `show` can use it any more.
        drop(unsafe { Arc::<T::Context>::from_foreign(ctx) });
        ret
    }

    /// # Safety
    ///
    /// Called by `seq_read()` for a file opened by [`Self::open`].
    unsafe extern "C" fn show(m: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
        // SAFETY: `single_open()` stored in `m->private` the reference `open` took, which
        // `release` gives back only after the last read.
        let ctx = unsafe { <Arc<T::Context> as ForeignOwnable>::borrow((*m).private) };
        // SAFETY: `m` is valid and used by this read only, for the duration of this call.
        let seq = unsafe { SeqFile::from_raw(m) };
        match T::show(&ctx, seq) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }
}
