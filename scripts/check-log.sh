#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Scan a kernel log for splats: warnings, KASAN and UBSAN reports, lockdep
# and RCU complaints, leaks found by kmemleak, hung tasks, oopses.
#
#   check-log.sh LOGFILE
#
# Exits 0 if the log is clean; otherwise prints each match with some
# context and exits 1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: check-log.sh LOGFILE"
log=$1
[ -r "$log" ] || die "cannot read $log"

# Case-sensitive on purpose: the boot banner says "kasan:" and
# "kmemleak:" in lower case; reports use these spellings.
pattern='BUG:|WARNING:|KASAN|Oops|Kernel panic|possible recursive locking|possible circular locking|suspicious RCU usage|inconsistent lock state|unreferenced object|blocked for more than|Call Trace:|UBSAN|general protection fault'

# -a: a serial log may hold stray binary bytes.
n=$(grep -a -c -E "$pattern" "$log" || true)
[ "$n" -eq 0 ] && exit 0

printf '%s splat line(s) in %s:\n' "$n" "$log" >&2
# selftests/run_tests.sh logs "run_tests.sh: suite <name>" as each starts.
grep -a -E "run_tests.sh: suite |$pattern" "$log" | tr -d '\r' |
	awk -v pat="$pattern" '/run_tests.sh: suite / { suite = $NF; next }
		$0 ~ pat && !seen[suite]++ { printf "  first one after suite %s started\n", suite ? suite : "(none: at boot)" }' >&2
# Long reports are in the file; the first ones are what matters.
grep -a -n -E -B 3 -A 12 "$pattern" "$log" | tr -d '\r' | head -n 200 >&2
exit 1
