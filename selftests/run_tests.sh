#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In-VM test driver of `make check`: runs the suites listed in suites.list
# (or in LIST) with the kernel's kselftest runner (kselftest/runner.sh, from
# tools/testing/selftests, copied here by scripts/build-selftests.sh).
#
#	run_tests.sh [LIST]
#
# The runner runs each suite under a timeout, the timeout= of the
# suite's settings file (45 s without one), prefixes its output with "# "
# and turns its exit status into a TAP result: ok (0), ok # SKIP (4),
# not ok # exit=N, not ok # TIMEOUT, not ok for a suite that is missing.
# The host counts the results (scripts/tap_summary.py), which also fails a
# suite that printed fewer results than it planned. After each suite a
# "# time: <suite> <seconds> s" line gives its wall time.
#
# RF_STRESS=full runs the stress tests at their full counts (make
# check-full); a suite's settings may then give a longer full_timeout=.
# Exits 0 if every suite passed or skipped.

BASE_DIR=$(cd "$(dirname "$0")" && pwd)
export BASE_DIR
export RF_MODDIR=${RF_MODDIR:-/lib/modules-rf}
export RF_STRESS=${RF_STRESS:-quick}
list=${1:-$BASE_DIR/suites.list}

. "$BASE_DIR/kselftest/runner.sh"

# runner.sh runs suites under /usr/bin/timeout with GNU's options
# (--foreground) and reads 124 as a timeout; busybox's timeout has
# neither, so the guest gets a compatible one (scripts/guest-timeout.c).
if [ "$(readlink /usr/bin/timeout 2>/dev/null)" = /bin/busybox ] &&
	[ -x "$BASE_DIR/kselftest/timeout" ]; then
	ln -sf "$BASE_DIR/kselftest/timeout" /usr/bin/timeout
fi

now() { cut -d' ' -f1 /proc/uptime 2>/dev/null || date +%s; }

suites=$(sed -e 's/#.*//' "$list" | tr -s ' \t' '\n\n' | grep -v '^$')
ktap_print_header
ktap_set_plan "$(echo $suites | wc -w)"
for suite in $suites; do
	dir=${suite%/*}
	kselftest_override_timeout=
	if [ "$RF_STRESS" = full ] && [ -r "$BASE_DIR/$dir/settings" ]; then
		kselftest_override_timeout=$(sed -n 's/^full_timeout=//p' "$BASE_DIR/$dir/settings")
	fi
	# In the kernel log too, so that a splat can be told to a suite.
	echo "run_tests.sh: suite $suite" >/dev/kmsg 2>/dev/null
	start=$(now)
	cd "$BASE_DIR"
	run_one "$dir" "$BASE_DIR/$suite"
	ktap_print_msg "time: $suite $(echo "$start $(now)" | awk '{ printf "%.1f", $2 - $1 }') s"
done
cd "$BASE_DIR"
ktap_finished
