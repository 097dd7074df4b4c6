#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run scripts/tap_summary.py on the samples next to this script and check
# its whole output (time table, FAIL lines, summary line) and exit status.
# Prints TAP, one result per case; exits non-zero if one failed.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

dir=$TOP/scripts/tests
parser=$TOP/scripts/tap_summary.py
errors=0
n=0
echo "TAP version 13"

# check NAME WANT_STATUS WANT_OUTPUT [FILE...]: the whole stdout must match.
check() {
	local name=$1 want_status=$2 want=$3 got status=0
	shift 3
	got=$(cd "$dir" && python3 "$parser" "$@" 2>/dev/null) || status=$?
	n=$((n + 1))
	if [ "$got" != "$want" ] || [ "$status" -ne "$want_status" ]; then
		echo "not ok $n tap_summary: $name"
		printf 'status %s (want %s), output:\n%s\nwanted:\n%s\n' \
			"$status" "$want_status" "$got" "$want" | sed 's/^/# /'
		errors=$((errors + 1))
	else
		echo "ok $n tap_summary: $name"
	fi
}

check ktap-pass 0 '4 passed, 0 failed, 2 skipped' ktap-pass.ktap

check ktap-fail 1 'FAIL: fence/test_wait
FAIL: chain (failed, no failed subtest)
4 passed, 2 failed' ktap-fail.ktap

check console-crash 1 'FAIL: fence_ops (2 of 4 planned results missing)
FAIL: (top level) (1 of 2 planned results missing)
3 passed, 3 failed' console-crash.log

check kselftest 1 'FAIL: selftests: dma-buf: sync/sync_merge
FAIL: (top level) (1 of 3 planned results missing)
3 passed, 2 failed, 1 skipped' kselftest.tap

check kunit-tap14 1 'FAIL: example/example_fail_test
1 passed, 1 failed, 1 skipped' kunit-tap14.tap

check indent2 0 '3 passed, 0 failed' indent2.tap

check empty 1 '0 passed, 0 failed' empty.txt

check two-files 0 '7 passed, 0 failed, 2 skipped' ktap-pass.ktap indent2.tap

check stdin 0 '3 passed, 0 failed' - <"$dir/indent2.tap"

# Output of selftests/run_tests.sh: two documents in a suite count under
# it, each held to its plan; the "# time:" lines make the table.
check runner-two-docs 1 'wall time per suite (s):
     4.3  c_consumer/run.sh
    10.2  fence_ops/run.sh
   100.0  bench/run.sh  <- slowest
   114.5  total
FAIL: selftests: fence_ops: run.sh (1 of 3 planned results missing)
FAIL: selftests: bench: run.sh (2 results, 1 planned)
9 passed, 2 failed' runner-two-docs.tap

# The "# figures:" comments of the suites, at any level, in their order.
check figures 0 'figures:
  sw_sync_fuzz: 1 seeds, 4000 operations, 0 divergences
  fault_injection: 959 injection points tried in all
2 passed, 0 failed' figures.tap

echo "1..$n"
[ $errors -eq 0 ] || die "$errors tap_summary.py test(s) failed"
