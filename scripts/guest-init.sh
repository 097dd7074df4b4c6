#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the rust-fence test VM, put into the initramfs by scripts/vm.sh.
# Loads the modules, runs the command with its output on /dev/ttyS1 (the
# host's output.log), scans for leaks, prints "rust-fence-exit: <status>"
# on the console (ttyS0, the host's console.log) and reboots, which ends
# QEMU (-no-reboot).

# The initramfs has no device nodes (it is built without root): stdio
# only exists once devtmpfs is mounted.
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
# The links that udev would make, which scripts expect (the kselftest
# runner writes to /dev/stdout).
/bin/busybox ln -s /proc/self/fd /dev/fd
/bin/busybox ln -s fd/0 /dev/stdin
/bin/busybox ln -s fd/1 /dev/stdout
/bin/busybox ln -s fd/2 /dev/stderr

export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp

# RF_CMD, RF_LOAD and RF_MODULES, written by vm.sh.
. /etc/rf-env

# Raw, so that the host sees the command's bytes with \n line ends.
stty -F /dev/ttyS1 raw -echo

status=0
if [ "$RF_LOAD" = yes ]; then
	for m in $RF_MODULES; do
		out=$(insmod "/lib/modules-rf/$m" 2>&1)
		status=$?
		if [ $status -ne 0 ]; then
			printf '%s\nrust-fence-insmod-failed: %s (status %s)\n' "$out" "$m" "$status" |
				tee /dev/ttyS1
			break
		fi
	done
fi

if [ $status -eq 0 ]; then
	(cd / && exec /bin/sh -c "$RF_CMD") </dev/null >/dev/ttyS1 2>&1
	status=$?
fi

# kmemleak only reports objects older than 5 s, found unreferenced by a
# scan: scan, let late allocations age, scan again. A suite that leaks on
# purpose declares "<comm> <count>" lines in /tmp/rf-expected-leaks: up to
# <count> objects allocated by a process of that name are shown as
# expected; every other one, as kmemleak reports it (a leak for the host).
if [ -e /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	sleep 6
	echo scan >/sys/kernel/debug/kmemleak
	touch /tmp/rf-expected-leaks
	awk -v expected=/tmp/rf-expected-leaks '
	BEGIN {
		while ((getline line <expected) > 0) {
			split(line, f, " ")
			allowed[f[1]] += f[2]
		}
	}
	function flush() {
		if (block == "")
			return
		if (allowed[comm] > 0) {
			allowed[comm]--
			sub(/^unreferenced object/, "kmemleak: leaked on purpose by " comm ":", block)
		}
		printf "%s", block
		block = ""
	}
	/^unreferenced object/ { flush(); comm = "" }
	/^  comm "/ { comm = $2; gsub(/[",]/, "", comm) }
	{ block = block $0 "\n" }
	END { flush() }' /sys/kernel/debug/kmemleak
fi

echo "rust-fence-exit: $status"
# stty sets the modes with TCSADRAIN: both ports are flushed before the
# reboot cuts them off.
stty -F /dev/ttyS1 raw
stty onlcr
reboot -f
