#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Test of selftests/include/progress_watch.sh, the hang watchdog of the
# stress suites: a command that makes progress (through the watched file or
# its output) runs to its end with its exit status and output; one that
# stops is killed with all its processes after the limit, and the state of
# its threads and the watched file are printed. Runs the watchdog in
# busybox sh, the guest's shell, on the host, in a few seconds. Prints TAP.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

busybox=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
watch=$TOP/selftests/include/progress_watch.sh
state=$work/state
echo "timeline value 0" >"$state"

result() { tap_result progress_watch "$@"; }
# Runs run_watched with a 3 s limit, sampling every second; sets out, rc, secs.
watched() { # command...
	local start=$SECONDS
	rc=0
	out=$(RF_WATCH_INTERVAL=1 "$busybox" sh -c '. "$0"; f=$1; shift; run_watched 3 "$f" -- "$@"' \
		"$watch" "$state" "$@" 2>&1) || rc=$?
	secs=$((SECONDS - start))
}

echo "TAP version 13"
echo "1..5"

watched sh -c 'for i in 1 2 3 4 5 6; do echo "timeline value $i" >'"$state"'; sleep 1; done'
result "$([ $rc -eq 0 ] && ! grep -q hang <<<"$out"; echo $?)" \
	"progress through the watched file runs 6 s, past the 3 s limit" "rc $rc" "$out"

watched sh -c 'for i in 1 2 3 4 5 6; do echo "# step $i"; sleep 1; done'
result "$([ $rc -eq 0 ] && grep -q '# step 6' <<<"$out"; echo $?)" \
	"progress through the output alone; the output passes through" "rc $rc" "$out"

watched sh -c 'echo "1..1"; exit 3'
result "$([ $rc -eq 3 ] && [ "$out" = "1..1" ]; echo $?)" \
	"the command's exit status and output are its own" "rc $rc" "$out"

echo "timeline value 7, point 9 pending" >"$state"
watched sh -c 'echo "ok 1 before"; sleep 1000 & echo $! >'"$work/child"'; sleep 1001'
child=$(cat "$work/child")
result "$([ $rc -eq 1 ] && [ $secs -lt 20 ] &&
	grep -q '^# hang: no progress for [0-9]* s' <<<"$out" &&
	grep -q '^# hang: pid [0-9]* tid [0-9]* (sleep) state S' <<<"$out" &&
	grep -q "^# hang: $state: timeline value 7, point 9 pending" <<<"$out"; echo $?)" \
	"a hang fails within the limit with every thread's state and the timeline" \
	"rc $rc after $secs s" "$out"
# Killed, or a zombie of it left to a parent that does not reap.
sleep 1
result "$([ ! -e "/proc/$child" ] || grep -q ') Z' "/proc/$child/stat"; echo $?)" \
	"the hung command's processes are killed, children too" "pid $child still runs"
kill -9 "$child" 2>/dev/null || true
