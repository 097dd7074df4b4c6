#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: build everything that is missing, check formatting and
# clippy, test the harness itself, run every test suite of
# selftests/suites.list in one boot of the test kernel, print the wall time
# of each step and suite, and end with one line "N passed, N failed[, N
# skipped]". Exits non-zero on any failed test and on any kernel splat in
# the guest log.
#
# RF_STRESS=full (make check-full, what CI runs) runs the stress tests at
# their full counts and the benchmarks, and tests the suite runner in the
# VM too. TIMEOUT (seconds) bounds the boot; by default the sum of the
# suites' timeouts plus 5 minutes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=${OUT:-$TOP/build/check}
export RF_STRESS=${RF_STRESS:-quick}
case $RF_STRESS in quick | full) ;; *) die "RF_STRESS must be quick or full, not '$RF_STRESS'" ;; esac

# Wall time of each host step, for the summary: "# time: <name> <s> s".
times=$OUT/times.txt
step=$SECONDS
timed() { # name: the time since the last call
	echo "# time: $1 $((SECONDS - step)) s" >>"$times"
	step=$SECONDS
}

rm -rf "$OUT"
mkdir -p "$OUT"
bash "$TOP/scripts/setup.sh"
KDIR=${KDIR:-$(bash "$TOP/scripts/build-kernel.sh")}
export KDIR
# The KUnit suite of rust_fence is built in only for the tests.
kmake() { make -s -C "$TOP" KDIR="$KDIR" RUST_FENCE_KUNIT=y "$@"; }
cd "$TOP"
timed "host: setup and test kernel"

# Host-side checks, reported as TAP like the guest's tests.
host_result() { # number, description, log file, command...
	local n=$1 what=$2 log=$3
	shift 3
	if "$@" >"$log" 2>&1; then
		echo "ok $n $what"
	else
		echo "not ok $n $what"
		sed 's/^/# /' "$log" | head -n 40
	fi
}
msg "checking rustfmt, clippy and checkpatch (warnings are errors)"
{
	echo "TAP version 13"
	echo "1..3"
	host_result 1 "rustfmt: the Rust code is formatted" "$OUT/fmtcheck.log" kmake fmtcheck
	timed "host: rustfmt"
	host_result 2 "clippy: no warnings (CLIPPY=1)" "$OUT/clippy.log" kmake clippy
	timed "host: clippy"
	host_result 3 "checkpatch: the C code has no error or warning" "$OUT/checkpatch.log" \
		kmake checkpatch
	timed "host: checkpatch"
} >"$OUT/lint.tap"
cat "$OUT/lint.tap"

msg "building the modules"
if ! kmake modules; then
	echo "# the modules do not build: no test can run"
	echo "0 passed, 1 failed"
	exit 1
fi
timed "host: build the modules"

msg "proving that API misuse does not compile"
bash "$TOP/selftests/compile_fail/run.sh" "$KDIR" >"$OUT/compile_fail.tap"
cat "$OUT/compile_fail.tap"
timed "host: compile-fail proofs"

msg "building the guest side of the suites"
bash "$TOP/scripts/build-selftests.sh" "$KDIR" "$OUT/selftests"
timed "host: build the guest programs"

msg "testing the harness: the TAP counter, the suite runner, the hang watchdog, make rust-analyzer"
{
	bash "$TOP/scripts/tests/test_tap_summary.sh" 2>&1 ||
		echo "not ok - test_tap_summary.sh exited with status $?"
	# check-full also runs the runner's test once in the VM.
	bash "$TOP/scripts/tests/test_runner.sh" "$OUT/selftests" \
		$([ "$RF_STRESS" != full ] || echo --vm) 2>&1 ||
		echo "not ok - test_runner.sh exited with status $?"
	bash "$TOP/scripts/tests/test_progress_watch.sh" 2>&1 ||
		echo "not ok - test_progress_watch.sh exited with status $?"
	bash "$TOP/scripts/tests/test_rust_analyzer.sh" "$KDIR" 2>&1 ||
		echo "not ok - test_rust_analyzer.sh exited with status $?"
} >"$OUT/harness.tap"
cat "$OUT/harness.tap"
timed "host: harness tests"

# The VM's time limit: every suite's own, plus boot and leak scan.
if [ -z "${TIMEOUT:-}" ]; then
	TIMEOUT=300
	for suite in $(sed -e 's/#.*//' "$OUT/selftests/suites.list"); do
		settings=$OUT/selftests/${suite%/*}/settings
		t=
		[ "$RF_STRESS" != full ] || t=$(sed -n 's/^full_timeout=//p' "$settings" 2>/dev/null || true)
		[ -n "$t" ] || t=$(sed -n 's/^timeout=//p' "$settings" 2>/dev/null || true)
		TIMEOUT=$((TIMEOUT + ${t:-45}))
	done
fi

msg "running the test suites in QEMU, stress counts: $RF_STRESS (log: $OUT/console.log)"
vm_rc=0
vm_start=$EPOCHREALTIME
OUT="$OUT" TIMEOUT="$TIMEOUT" LOAD=no \
	MODULES="$TOP/rust_fence.ko $TOP/fence_ops.ko $TOP/fence_holder.ko $TOP/rf_misuse.ko" \
	ADD="$OUT/selftests" CMD="RF_STRESS=$RF_STRESS /add/selftests/run_tests.sh" \
	bash "$TOP/scripts/vm.sh" || vm_rc=$?
vm_end=$EPOCHREALTIME

# The suites' results, with the wall time of each as the host saw it
# (vm.sh's output.times): the guest's own clock falls behind when the host
# is busy. A suite's time runs from the previous "# time:" line (or the
# runner's plan) to its own.
touch "$OUT/output.times" "$OUT/output.log"
paste "$OUT/output.times" "$OUT/output.log" |
	awk -F '\t' -v start="$vm_start" -v end="$vm_end" '
	{ t = $1; line = substr($0, length($1) + 2) }
	t != "" && !began && line ~ /^1\.\.[0-9]+$/ {
		began = 1
		printf "# time: guest: boot (and the initramfs) %.1f s\n", t - start
		prev = t
	}
	t != "" && began && line ~ /^# time: / {
		split(line, f, " ")
		line = sprintf("# time: %s %.1f s", f[3], t - prev)
		prev = t
	}
	{ print line }
	END {
		if (began)
			printf "# time: guest: leak scan and shutdown %.1f s\n", end - prev
	}' >"$OUT/guest.tap"

# The host's own results: the guest finished, and its kernel log is clean.
{
	echo "TAP version 13"
	echo "1..2"
	if [ -f "$OUT/console.log" ] && grep -q 'rust-fence-exit:' "$OUT/console.log"; then
		echo "ok 1 the guest ran the suites to the end"
	else
		echo "not ok 1 the guest ran the suites to the end (vm.sh status $vm_rc)"
	fi
	if bash "$TOP/scripts/check-log.sh" "$OUT/console.log" >"$OUT/splats.txt" 2>&1; then
		echo "ok 2 the guest kernel log has no splat (KASAN, lockdep, RCU, WARN, BUG, leaks, hung tasks)"
	else
		echo "not ok 2 the guest kernel log has no splat: see $OUT/console.log"
		sed 's/^/# /' "$OUT/splats.txt"
	fi
} >"$OUT/host.tap"

cat "$OUT/host.tap"
echo
python3 "$TOP/scripts/tap_summary.py" "$OUT/times.txt" "$OUT/lint.tap" "$OUT/compile_fail.tap" \
	"$OUT/harness.tap" "$OUT/guest.tap" "$OUT/host.tap"
