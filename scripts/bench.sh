#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: per-operation figures of rust_fence and fence_ops against
# the C dma_fence API and the kernel's C sw_sync, on a kernel without the
# debug options.
#
# 1. Builds the benchmark kernel once: the same source and .config.fragment
#    as the test kernel minus its debug options (scripts/bench-fragment.sh),
#    cached in ~/.cache/rust-fence/linux-7.3-bench-<key> and keyed as the
#    test kernel is.
# 2. Builds the modules against it from a copy of the sources in
#    build/bench/src, so the test build in the tree is left alone, and the
#    guest programs.
# 3. Boots it three times: a 2-CPU guest runs every benchmark, 1 and 4-CPU
#    guests the scaling figures (selftests/bench/bench_all.sh).
# 4. Writes build/bench/results.md (and plots next to it) and prints it.
#
# Environment: RUNS (7) and ITER_PCT (100) for quicker, rougher runs;
# BENCH_SMP (default "2 1 4": the guests to boot, the first runs
# everything); KEEP_VM_LOGS=1 keeps the guests' logs of earlier runs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$TOP/build/bench
RUNS=${RUNS:-7}
ITER_PCT=${ITER_PCT:-100}
BENCH_SMP=${BENCH_SMP:-2 1 4}
start=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
others_start=$(pgrep -c qemu-system || true)

bash "$TOP/scripts/setup.sh" bench
mkdir -p "$OUT"

# The kernel: the fragment is rewritten only when it changes, so that a
# warm cache stays warm.
bash "$TOP/scripts/bench-fragment.sh" >"$OUT/config.fragment.new"
if cmp -s "$OUT/config.fragment.new" "$OUT/config.fragment"; then
	rm "$OUT/config.fragment.new"
else
	mv "$OUT/config.fragment.new" "$OUT/config.fragment"
fi
kstart=$(date +%s)
KDIR=$(KERNEL_FRAGMENT="$OUT/config.fragment" KERNEL_FLAVOUR=bench \
	bash "$TOP/scripts/build-kernel.sh")
kernel_s=$(($(date +%s) - kstart))

# The modules, from a copy of the sources: the tree's own build (against
# the test kernel) is not touched.
msg "building the modules against $(basename "$KDIR") in $OUT/src"
mkdir -p "$OUT/src"
(cd "$TOP" && tar -cf - --exclude=./build --exclude=./.git --exclude='*.o' --exclude='*.ko' \
	--exclude='*.mod' --exclude='*.mod.c' --exclude='.*.cmd' --exclude='*.rmeta' \
	--exclude=Module.symvers --exclude=modules.order --exclude='*_generated.h' \
	--exclude=rust-project.json .) | (cd "$OUT/src" && tar -xf -)
make -s -C "$KDIR" M="$OUT/src" LLVM="$LLVM_SUFFIX" -j"$(($(nproc) + 1))" modules

# The guest side: the script, the benchmark program (static, against this
# kernel's UAPI headers).
guest=$OUT/guest
rm -rf "$guest"
mkdir -p "$guest"
install -m 0755 "$TOP/selftests/bench/bench_all.sh" "$guest/"
gcc -static -O2 -Wall -Wextra -Werror -pthread -I "$KDIR/usr/include" \
	-I "$KDIR/tools/testing/selftests" -I "$TOP/selftests/include" \
	-I "$TOP/selftests/sw_sync_abi" -I "$TOP/selftests/fence_ops" \
	-o "$guest/bench" "$TOP/selftests/bench/bench.c"

# The guests' clock. Without ACPI, the kernel finds no HPET or PM timer to
# calibrate the TSC against, fails with the PIT under TCG and falls back to
# jiffies (4 ms steps). QEMU's TCG TSC runs at the host's TSC rate: measure
# it here and give it to the guest kernel.
cat >"$OUT/tsc-khz.c" <<'EOF'
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}
int main(void)
{
	double t0 = now(), t1;
	unsigned long long c0 = __rdtsc(), c1;

	do {
		t1 = now();
	} while (t1 - t0 < 0.5);
	c1 = __rdtsc();
	printf("%.0f\n", (c1 - c0) / (t1 - t0) / 1000);
	return 0;
}
EOF
gcc -O2 -o "$OUT/tsc-khz" "$OUT/tsc-khz.c"
tsc_khz=$("$OUT/tsc-khz")
msg "host TSC: $tsc_khz kHz"

modules="$OUT/src/rust_fence.ko $OUT/src/fence_ops.ko $OUT/src/rf_bench.ko"
[ "${KEEP_VM_LOGS:-0}" = 1 ] || rm -rf "$OUT"/vm-smp*
rm -f "$OUT"/raw-smp*.txt
first=1
vm_s=0
for smp in $BENCH_SMP; do
	mode=scale
	mem=1024M
	if [ $first = 1 ]; then
		# The unload figures hold a million sync_file fds.
		mode=main
		mem=3072M
	fi
	first=0
	vstart=$(date +%s)
	msg "benchmarks in a $smp-CPU guest ($mode; host: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
	rc=0
	KDIR="$KDIR" SMP="$smp" MEM="$mem" TIMEOUT=3600 OUT="$OUT/vm-smp$smp" MODULES="$modules" \
		ADD="$guest" APPEND="tsc_early_khz=$tsc_khz tsc=reliable" \
		CMD="RUNS=$RUNS ITER_PCT=$ITER_PCT /add/guest/bench_all.sh $mode" \
		bash "$TOP/scripts/vm.sh" >"$OUT/vm-smp$smp.log" 2>&1 || rc=$?
	vm_s=$((vm_s + $(date +%s) - vstart))
	{
		echo "# bench: boot smp=$smp host_cores=$(nproc) mem=$mem status=$rc" \
			"seconds=$(($(date +%s) - vstart)) load=$(cut -d' ' -f1 /proc/loadavg)"
		tr -d '\r' <"$OUT/vm-smp$smp/output.log"
	} >"$OUT/raw-smp$smp.txt"
	if [ $rc -ne 0 ]; then
		tail -n 20 "$OUT/vm-smp$smp.log" >&2
		msg "the $smp-CPU guest failed (status $rc): see $OUT/vm-smp$smp/"
	fi
done

total_s=$(($(date +%s) - start))
python3 "$TOP/scripts/bench-report.py" --out "$OUT" --kdir "$KDIR" \
	--host-cores "$(nproc)" --load-start "$load_start" --load-end "$(cut -d' ' -f1-3 /proc/loadavg)" \
	--others-start "$others_start" --tsc-khz "$tsc_khz" \
	--times "total=$total_s kernel=$kernel_s guests=$vm_s" \
	--notes "$TOP/selftests/bench/why.md" "$OUT"/raw-smp*.txt
for plot in "$OUT"/*.gp; do
	[ -e "$plot" ] || continue
	(cd "$OUT" && gnuplot "$(basename "$plot")") || msg "gnuplot $plot failed"
done
cat "$OUT/results.md"
msg "make bench took $(($(date +%s) - start)) s: results in $OUT/results.md"
