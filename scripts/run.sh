#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make run`: build whatever is missing, boot the test kernel in QEMU and
# run the demo scenario (selftests/demo.sh) with a readable transcript.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=${OUT:-$TOP/build/run}

bash "$TOP/scripts/setup.sh"
KDIR=${KDIR:-$(bash "$TOP/scripts/build-kernel.sh")}
make -s -C "$TOP" KDIR="$KDIR" modules

bash "$TOP/scripts/build-selftests.sh" "$KDIR" "$OUT/selftests"
OUT="$OUT" KDIR="$KDIR" LOAD=no \
	MODULES="$TOP/rust_fence.ko $TOP/fence_ops.ko" \
	ADD="$OUT/selftests" CMD="sh /add/selftests/demo.sh" \
	bash "$TOP/scripts/vm.sh"
msg "demo finished; the full kernel log is $OUT/console.log"
