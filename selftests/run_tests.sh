#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In-VM test driver of `make check`: runs every suite and prints its TAP or
# KTAP, one document per suite. The host counts the results
# (scripts/tap_summary.py). The modules are in $RF_MODDIR.

export RF_MODDIR=${RF_MODDIR:-/lib/modules-rf}
here=$(dirname "$0")
export PATH="$PATH:$here"

# Suites in the order they run; each leaves the modules unloaded.
# sw_sync_abi/run.sh runs the ABI suite against the kernel's C sw_sync: the
# reference that fence_ops/run.sh then holds fence_ops to.
for suite in modules/load_unload.sh kunit/rust_fence_kunit.sh c_consumer/run.sh \
	sw_sync_abi/run.sh fence_ops/run.sh misuse/run.sh bench/run.sh; do
	echo "# suite: $suite"
	sh "$here/$suite"
	echo "# suite $suite exited with $?"
done
