#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of `make bench` (scripts/bench.sh): runs the benchmarks of one
# boot and prints their "# bench:" lines. rust_fence.ko, fence_ops.ko and
# rf_bench.ko are loaded; $RF_MODDIR has fence_ops.ko for the unload figures.
#
#	bench_all.sh main	every benchmark (the 2-CPU guest)
#	bench_all.sh scale	the figures with 1, 2 and 4 threads only
#
# RUNS (default 7) and ITER_PCT (default 100) make a quicker, rougher run.

here=$(dirname "$0")
export RF_MODDIR=${RF_MODDIR:-/lib/modules-rf}
mode=${1:-main}
runs=${RUNS:-7}
ctl=/sys/kernel/debug/rf_bench
status=0

# The kernel switches from tsc-early to tsc about 2 s into the boot: the
# same counter, but wait for it, so that nothing runs across the switch.
cs=/sys/devices/system/clocksource/clocksource0/current_clocksource
i=0
while [ "$(cat $cs)" = tsc-early ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done

echo "# bench: guest cpus=$(nproc) kernel=$(uname -r) mode=$mode runs=$runs" \
	"clocksource=$(cat $cs)"
echo "$runs" >/sys/module/rf_bench/parameters/runs
echo "${ITER_PCT:-100}" >/sys/module/rf_bench/parameters/iter_pct

# A command of rf_bench, then its results.
kernel() {
	echo "# bench: step kernel $1 start=$(cut -d' ' -f1 /proc/uptime)"
	echo "$1" >"$ctl/control" || { echo "# bench: error: rf_bench command '$1' failed"; status=1; }
	cat "$ctl/results"
}

# A run of the userspace benchmark.
user() {
	echo "# bench: step user $* start=$(cut -d' ' -f1 /proc/uptime)"
	"$here/bench" "$@" || { echo "# bench: error: bench $* failed"; status=1; }
}

case $mode in
main)
	kernel pairs
	kernel "scale 2"
	kernel "scale 4"
	user abi "$runs"
	user abi-scale 2 "$runs"
	user abi-scale 4 "$runs"
	user mem-kernel 20000
	user mem-abi 20000
	rmmod rf_bench
	user unload 5
	;;
scale)
	kernel "scale 1"
	kernel "scale 2"
	kernel "scale 4"
	user abi-scale 1 "$runs"
	user abi-scale 2 "$runs"
	user abi-scale 4 "$runs"
	;;
*)
	echo "usage: $0 main|scale" >&2
	exit 2
	;;
esac
echo "# bench: step done end=$(cut -d' ' -f1 /proc/uptime)"
exit $status
