#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the guest side of the test suites into one directory that vm.sh
# copies into the guest: the test scripts, the kernel's kselftest runner
# and KTAP helpers, the static userspace test programs and the test
# modules.
#
#   build-selftests.sh KDIR OUTDIR
#
# The rust_fence modules must be built first (their Module.symvers).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${1:?usage: build-selftests.sh KDIR OUTDIR}
out=${2:?usage: build-selftests.sh KDIR OUTDIR}
[ -f "$TOP/Module.symvers" ] || die "build the modules first (make)"

rm -rf "$out"
mkdir -p "$out"
cp -R "$TOP/selftests/." "$out/"
rm -rf "$out/compile_fail"
find "$out" \( -name '*.c' -o -name '*.h' -o -name '*.o' -o -name '*.ko' -o -name 'Kbuild' \
	-o -name '*.mod*' -o -name '.*.cmd' -o -name 'Module.symvers' -o -name 'modules.order' \) -delete
cp "$kdir/tools/testing/selftests/kselftest/ktap_helpers.sh" "$out/"
# The kernel's runner (run_tests.sh sources it), and the timeout(1) it
# needs, which busybox's is not (scripts/guest-timeout.c).
mkdir -p "$out/kselftest"
cp "$kdir"/tools/testing/selftests/kselftest/{runner.sh,ktap_helpers.sh,prefix.pl} "$out/kselftest/"
gcc -static -O2 -Wall -Wextra -Werror -o "$out/kselftest/timeout" "$TOP/scripts/guest-timeout.c"

# Userspace tests: static, against this kernel's UAPI and kselftest headers.
cflags=(-static -O2 -Wall -Wextra -Werror -pthread
	-I "$kdir/usr/include" -I "$kdir/tools/testing/selftests" -I "$TOP/selftests/include")
build_prog() { # source, output
	gcc "${cflags[@]}" -I "$(dirname "$1")" -o "$2" "$1"
}
build_prog "$TOP/selftests/c_consumer/c_consumer_test.c" "$out/c_consumer/c_consumer_test"
build_prog "$TOP/selftests/sw_sync_abi/sw_sync_abi_test.c" "$out/sw_sync_abi/sw_sync_abi_test"
# A 32-bit program (IA32 emulation in the test kernel): the compat ioctl path.
gcc "${cflags[@]}" -m32 -I "$TOP/selftests/sw_sync_abi" -o "$out/sw_sync_abi/compat32_test" \
	"$TOP/selftests/sw_sync_abi/compat32_test.c"
cflags+=(-I "$TOP/selftests/sw_sync_abi")
build_prog "$TOP/selftests/fence_ops/unload_test.c" "$out/fence_ops/unload_test"
build_prog "$TOP/selftests/misuse/misuse_test.c" "$out/misuse/misuse_test"
build_prog "$TOP/selftests/fence_ops/demo.c" "$out/fence_ops/demo"
cflags+=(-I "$TOP/selftests/fence_ops")
build_prog "$TOP/selftests/bench/bench.c" "$out/bench/bench"
build_prog "$TOP/selftests/consumers/consumers_test.c" "$out/consumers/consumers_test"
build_prog "$TOP/selftests/sw_sync_fuzz/sw_sync_fuzz.c" "$out/sw_sync_fuzz/sw_sync_fuzz"
cflags+=(-I "$TOP/selftests/c_consumer")
build_prog "$TOP/selftests/fault_injection/fault_injection_test.c" \
	"$out/fault_injection/fault_injection_test"
build_prog "$TOP/selftests/unload_race/unload_race.c" "$out/unload_race/unload_race"

# The kernel's own sync selftests, run unchanged against fence_ops but for
# the iteration counts of the stress tests, which they hard-code: a copy
# reads each count N as RF_STRESS_COUNT(N) (scripts/sync-stress-counts.h),
# so that one binary runs the kernel's counts or a fraction of them.
sync="$kdir/tools/testing/selftests/sync"
sync_src=$out/.sync-src
mkdir -p "$sync_src"
cp "$sync"/*.c "$sync"/*.h "$sync_src/"
# (Their "../kselftest.h" is found through -I "$sync".)
sed -i -E 's/^([[:space:]]*(int )?(test_data_two_threads\.iterations|iterations|merge_count) = )([0-9][0-9 <*]*);/\1RF_STRESS_COUNT(\4);/' \
	"$sync_src"/sync_stress_*.c
n=$(cat "$sync_src"/sync_stress_*.c | grep -c 'RF_STRESS_COUNT(' || true)
[ "$n" -eq 3 ] ||
	die "expected 3 stress counts in $sync/sync_stress_*.c, patched $n: update build-selftests.sh"
gcc "${cflags[@]}" -Wno-error -w -I "$sync_src" -I "$sync" -include "$TOP/scripts/sync-stress-counts.h" \
	-o "$out/sync/sync_test" "$sync_src"/sync_test.c "$sync_src"/sync.c "$sync_src"/sync_alloc.c \
	"$sync_src"/sync_fence.c "$sync_src"/sync_merge.c "$sync_src"/sync_wait.c \
	"$sync_src"/sync_stress_parallelism.c "$sync_src"/sync_stress_consumer.c \
	"$sync_src"/sync_stress_merge.c
rm -rf "$sync_src"

# Test modules: the C driver built on the C API of rust_fence, with the
# extra warnings (W=1) a driver tree builds with.
make -s -C "$kdir" M="$TOP/selftests/c_consumer" LLVM="$LLVM_SUFFIX" W=1 KCFLAGS=-Werror \
	KBUILD_EXTRA_SYMBOLS="$TOP/Module.symvers" RUST_FENCE="$TOP" modules
cp "$TOP/selftests/c_consumer/rf_c_consumer.ko" "$out/c_consumer/"
# A Rust provider built outside the tree, against an installed rust_fence.
dev=$(realpath -m "$out/.rust_fence-dev")
make -s -C "$TOP" install-dev DESTDIR="$dev" >/dev/null
make -s -C "$kdir" M="$TOP/examples/rust_provider" LLVM="$LLVM_SUFFIX" RUST_FENCE="$dev" modules
cp "$TOP/examples/rust_provider/rf_example.ko" "$out/modules/"
rm -rf "$dev"
# A DRM device with syncobjs only, for the consumers suite.
make -s -C "$kdir" M="$TOP/selftests/consumers" LLVM="$LLVM_SUFFIX" W=1 KCFLAGS=-Werror modules
cp "$TOP/selftests/consumers/rf_drm_syncobj.ko" "$out/consumers/"
