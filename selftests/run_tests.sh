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
for suite in modules/load_unload.sh kunit/rust_fence_kunit.sh c_consumer/run.sh; do
	echo "# suite: $suite"
	sh "$here/$suite"
	echo "# suite $suite exited with $?"
done
