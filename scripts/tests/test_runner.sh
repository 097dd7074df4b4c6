#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Test of the suite runner: selftests/run_tests.sh (the kernel's kselftest
# runner) and scripts/tap_summary.py must fail the check when a suite exits
# before printing its TAP, hangs, stops short of its plan or is missing,
# and when the run itself is cut short, and pass good and skipped suites.
#
#	test_runner.sh SELFTESTS [--vm]
#
# SELFTESTS is the guest side built by scripts/build-selftests.sh (its
# run_tests.sh, kselftest/ runner and timeout). The fake suites run in the
# guest's own userland, the busybox root of vm.sh with the guest's
# timeout, in a chroot on the host (needs root), which takes seconds. With
# --vm they also run once in the test VM (KDIR: the test kernel), through
# /init and the serial console as make check's suites do. Prints TAP.
# KEEP=1 keeps its work directory (the fake suites, their output) to look at.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

selftests=${1:?usage: test_runner.sh SELFTESTS [--vm]}
vm=${2:-}
[ -f "$selftests/run_tests.sh" ] && [ -x "$selftests/kselftest/timeout" ] ||
	die "$selftests is not built (scripts/build-selftests.sh)"
work=$(mktemp -d)
hang_pid=
cleanup() {
	[ -z "$hang_pid" ] || kill -9 "$hang_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
[ -z "${KEEP:-}" ] || { trap - EXIT; msg "keeping $work"; }

# The fake suites, beside copies of the runner.
st=$work/selftests
mkdir -p "$st"
cp -R "$selftests/run_tests.sh" "$selftests/kselftest" "$st/"
suite() { # dir, timeout, body
	mkdir -p "$st/$1"
	printf '#!/bin/sh\n%s\n' "$3" >"$st/$1/run.sh"
	chmod +x "$st/$1/run.sh"
	echo "timeout=$2" >"$st/$1/settings"
}
suite pass 10 'echo "TAP version 13"; echo "1..2"; echo "ok 1 one"; echo "ok 2 two"'
suite skip 10 'echo "TAP version 13"; echo "1..0 # SKIP nothing to test here"; exit 4'
# What a suite did when a module did not load (issue: lost silently).
suite early 10 'echo "insmod: cannot insert fence_ops.ko: Invalid argument" >&2; exit 1'
# A hang, with a child that would keep the runner's pipe open.
suite hang 2 'echo "TAP version 13"; echo "1..2"; echo "ok 1 before the hang"
sleep 1000 &
echo $! >/tmp/hang-child
sleep 1000'
suite short 10 'echo "TAP version 13"; echo "1..3"; echo "ok 1 one"; echo "ok 2 two"'
printf '# good\npass/run.sh\nskip/run.sh\n' >"$st/good.list"
printf 'pass/run.sh\nearly/run.sh\nhang/run.sh\nshort/run.sh\nmissing/run.sh\nskip/run.sh\n' \
	>"$st/bad.list"

bad_summary='FAIL: selftests: early: run.sh
FAIL: selftests: hang: run.sh (1 of 2 planned results missing)
FAIL: selftests: short: run.sh (1 of 3 planned results missing)
FAIL: selftests: missing: run.sh
5 passed, 4 failed, 1 skipped'

result() { tap_result runner "$@"; }
# The summary of a TAP file without its time table.
summary() {
	python3 "$TOP/scripts/tap_summary.py" "$1" | sed '/^wall time per suite/,/^ *[0-9.]* *total$/d'
}
expect_summary() { # description, TAP file, wanted status, wanted summary
	local got status=0 ok
	got=$(summary "$2") || status=$?
	[ "$status" -eq "$3" ] && [ "$got" = "$4" ] && ok=0 || ok=1
	result $ok "$1" "status $status (want $3), summary:" "$got" "wanted:" "$4"
}

echo "TAP version 13"
echo "1..$([ "$vm" = --vm ] && echo 9 || echo 8)"

if [ "$(id -u)" -ne 0 ]; then
	for i in 1 2 3 4 5 6 7 8; do
		echo "ok $i runner: case $i # SKIP the chroot needs root"
	done
	exit 0
fi

root=$work/root
busybox_root "$root"
cp -R "$st" "$root/selftests"
ln -s /proc/self/fd "$root/dev/fd"
ln -s fd/1 "$root/dev/stdout"
ln -s fd/2 "$root/dev/stderr"
touch "$root/dev/null"
# In a mount namespace of its own: the mounts vanish with it. The output
# goes through a pipe, as to the guest's serial port: the runner reopens
# /dev/stdout, which for a regular file would be a second file offset.
# A runner that hangs is stopped after a minute (status 124).
in_root() { # list, output file: run_tests.sh's status
	timeout -k 5 60 unshare --mount sh -c '
		mount -t proc proc "$1/proc" && mount --bind /dev/null "$1/dev/null" &&
		exec chroot "$1" /usr/bin/env -i PATH=/bin:/sbin:/usr/bin:/usr/sbin \
			/selftests/run_tests.sh "$2"' sh "$root" "$1" 2>&1 | cat >"$2"
	return "${PIPESTATUS[0]}"
}

status=0
in_root /selftests/good.list "$work/good.tap" || status=$?
expect_summary "good and skipped suites pass" "$work/good.tap" 0 '2 passed, 0 failed, 1 skipped'
result "$status" "run_tests.sh exits 0 when every suite passed or skipped" \
	"status $status" "$(cat "$work/good.tap")"

start=$SECONDS
status=0
in_root /selftests/bad.list "$work/bad.tap" || status=$?
took=$((SECONDS - start))
[ "$status" -ne 0 ] && ok=0 || ok=1
result $ok "run_tests.sh exits non-zero when a suite failed" "status $status" \
	"$(cat "$work/bad.tap")"
expect_summary "a suite that exits early, hangs, stops short or is missing fails" \
	"$work/bad.tap" 1 "$bad_summary"

grep -q '^not ok 3 selftests: hang: run.sh # TIMEOUT 2 seconds$' "$work/bad.tap" && ok=0 || ok=1
result $ok "a hung suite is stopped by the timeout= of its settings" "$(cat "$work/bad.tap")"
hang_pid=$(cat "$root/tmp/hang-child" 2>/dev/null || true)
alive=no
if [ -n "$hang_pid" ] && [ -e "/proc/$hang_pid" ]; then
	sleep 1
	# A zombie, waiting for whoever inherited it, is dead.
	[ ! -e "/proc/$hang_pid" ] || grep -q '^State:[[:space:]]*Z' "/proc/$hang_pid/status" ||
		alive=yes
fi
[ -n "$hang_pid" ] && [ $alive = no ] && [ $took -lt 30 ] && ok=0 || ok=1
result $ok "the hung suite's children are killed and the run goes on ($took s)" \
	"child pid ${hang_pid:-(none)} alive: $alive"

want=$(printf '%s\n' pass early hang short missing skip)
got=$(sed -n 's|^# time: \([a-z]*\)/run.sh [0-9.]* s$|\1|p' "$work/bad.tap")
[ "$got" = "$want" ] && ok=0 || ok=1
result $ok "each suite's wall time is printed" "got:" "$got"

# A guest that dies in the middle of a suite: its output ends there.
sed '/^# selftests: short: run.sh$/,$d' "$work/bad.tap" >"$work/cut.tap"
expect_summary "a run cut short fails" "$work/cut.tap" 1 'FAIL: selftests: early: run.sh
FAIL: selftests: hang: run.sh (1 of 2 planned results missing)
FAIL: (top level) (3 of 6 planned results missing)
3 passed, 5 failed'

if [ "$vm" = --vm ]; then
	# The same in the test VM: its /init, busybox, kernel and serial port.
	OUT=$work/vm LOAD=no ADD="$st" CMD="/add/selftests/run_tests.sh /add/selftests/bad.list" \
		TIMEOUT=300 bash "$TOP/scripts/vm.sh" >/dev/null 2>"$work/vm.err" || true
	expect_summary "the same suites fail the same way in the test VM" "$work/vm/output.log" 1 \
		"$bad_summary"
fi
