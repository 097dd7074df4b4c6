// SPDX-License-Identifier: GPL-2.0
/*
 * Exports of rust_fence.
 *
 * The C API for C drivers (include/rust_fence.h) is implemented in Rust
 * (c_api.rs) and exported here against its header prototypes.
 *
 * The Rust symbols of the rust_fence crate that the Rust modules built
 * with it (rust_fence_users in Kbuild) really use are exported from a list
 * Kbuild generates with nm from the objects of those modules, as the
 * kernel does for nova-core, until Kbuild supports cross-module Rust
 * natively.
 */

#include <linux/export.h>

#include "include/rust_fence.h"

/* The functions are defined in c_api.rs; the header gives their types. */
#define EXPORT_RUST_FUNCTION_GPL(sym) EXPORT_SYMBOL_GPL(sym)

EXPORT_RUST_FUNCTION_GPL(rust_fence_timeline_create);
EXPORT_RUST_FUNCTION_GPL(rust_fence_timeline_destroy);
EXPORT_RUST_FUNCTION_GPL(rust_fence_issue);
EXPORT_RUST_FUNCTION_GPL(rust_fence_prealloc);
EXPORT_RUST_FUNCTION_GPL(rust_fence_issue_slot);
EXPORT_RUST_FUNCTION_GPL(rust_fence_slot_free);
EXPORT_RUST_FUNCTION_GPL(rust_fence_set_private);
EXPORT_RUST_FUNCTION_GPL(rust_fence_private);
EXPORT_RUST_FUNCTION_GPL(rust_fence_signal);
EXPORT_RUST_FUNCTION_GPL(rust_fence_sync_file_fd);

/* Declared as int: only their addresses matter to the export. */
#include "exports_rust_fence_generated.h"
