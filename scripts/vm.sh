#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the test kernel in QEMU (TCG) with a busybox initramfs, load
# modules, run a command as root and report its status.
#
# Environment (all optional):
#   KDIR     kernel build directory (default: build-kernel.sh --print-dir)
#   MODULES  space-separated .ko files, put in /lib/modules-rf/ and
#            insmod'ed in this order unless LOAD=no (default LOAD=yes)
#   CMD      command for /bin/sh -c in the guest
#            (default: uname -a; cat /proc/modules)
#   ADD      space-separated host files or directories, copied to /add/
#   SMP (2), MEM (1024M), TIMEOUT (900 s), OUT ($TOP/build/vm)
#   APPEND   extra kernel command line arguments
#   VERBOSE  1: print the kernel console log (to stderr) after the run
#
# CMD's output (stdout and stderr) goes to the guest's ttyS1, which is
# $OUT/output.log and shown live here; the kernel console (ttyS0) is
# $OUT/console.log. $OUT/output.times has, for each line of output.log,
# the host's time (seconds since the epoch) when it arrived: the guest's
# clock is jiffies (no TSC calibration under TCG), which fall behind when
# the host is busy. Exits with CMD's status; 1 if the kernel log has a
# splat (check-log.sh) or the guest did not finish, 124 on timeout,
# insmod's status if a module did not load.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KDIR=${KDIR:-$(bash "$TOP/scripts/build-kernel.sh" --print-dir)}
MODULES=${MODULES:-}
LOAD=${LOAD:-yes}
CMD=${CMD:-uname -a; cat /proc/modules}
ADD=${ADD:-}
SMP=${SMP:-2}
MEM=${MEM:-1024M}
TIMEOUT=${TIMEOUT:-900}
OUT=${OUT:-$TOP/build/vm}
APPEND=${APPEND:-}
VERBOSE=${VERBOSE:-0}

bzimage=$KDIR/arch/x86/boot/bzImage
[ -f "$bzimage" ] || die "no kernel image at $bzimage: build it with scripts/build-kernel.sh"
[ -f "$KDIR/.rust-fence-built" ] || msg "warning: $KDIR has no build stamp; the kernel may be incomplete"
case $LOAD in yes | no) ;; *) die "LOAD must be yes or no, not '$LOAD'" ;; esac
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"

# POSIX single quotes survive any content, for busybox sh to source.
shquote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
root=$OUT/initramfs
initrd=$OUT/initramfs.cpio.gz

msg "building initramfs $initrd"
rm -rf "$root"
busybox_root "$root"
mkdir -p "$root"/{add,lib/modules-rf}
install -m 0755 "$TOP/scripts/guest-init.sh" "$root/init"

names=
for m in $MODULES; do
	[ -f "$m" ] || die "module $m not found"
	b=$(basename "$m")
	[ ! -e "$root/lib/modules-rf/$b" ] || die "two modules named $b in MODULES"
	cp "$m" "$root/lib/modules-rf/$b"
	names="$names${names:+ }$b"
done
for a in $ADD; do
	[ -e "$a" ] || die "ADD entry $a not found"
	b=$(basename "$a")
	[ ! -e "$root/add/$b" ] || die "two ADD entries named $b"
	cp -RL "$a" "$root/add/$b"
done

{
	echo "RF_CMD=$(shquote "$CMD")"
	echo "RF_LOAD=$(shquote "$LOAD")"
	echo "RF_MODULES=$(shquote "$names")"
} >"$root/etc/rf-env"

(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null --quiet -o -H newc -R 0:0) | gzip -1 >"$initrd"

console=$OUT/console.log
output=$OUT/output.log
times=$OUT/output.times
: >"$console"
: >"$output"
: >"$times"

msg "booting $(basename "$KDIR") (smp $SMP, mem $MEM, timeout ${TIMEOUT}s; logs in $OUT)"
start=$(date +%s)
qpid=
tpid=
cleanup() {
	[ -z "$qpid" ] || kill "$qpid" 2>/dev/null || true
	[ -z "$tpid" ] || kill "$tpid" 2>/dev/null || true
}
trap cleanup EXIT
# One socket per CPU: without ACPI the kernel finds CPUs in SeaBIOS's MP
# table, which lists only the first CPU of each socket.
# panic=-1: a panic reboots at once, which -no-reboot turns into an exit.
# No oops=panic: an oops should leave a log and a status to look at.
timeout "$TIMEOUT" qemu-system-x86_64 \
	-accel tcg -cpu max,la57=off -m "$MEM" -smp "$SMP,sockets=$SMP,cores=1,threads=1" \
	-nodefaults -display none -no-reboot -monitor none \
	-kernel "$bzimage" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 loglevel=7 $APPEND" \
	-serial "file:$console" -serial "file:$output" \
	</dev/null >"$OUT/qemu.log" 2>&1 &
qpid=$!
# Live view of the command's output, with each line's arrival time noted;
# tail reads to the end after QEMU exits, so this is the complete output.
tail -n +1 -f --pid="$qpid" "$output" | (
	LC_NUMERIC=C
	while IFS= read -r line || [ -n "$line" ]; do
		printf '%s\n' "$line"
		echo "$EPOCHREALTIME" >>"$times"
	done
) &
tpid=$!
rc=0
wait "$qpid" || rc=$?
qpid=
wait "$tpid" || true
tpid=
msg "guest finished in $(($(date +%s) - start)) s"

if [ "$VERBOSE" = 1 ]; then
	echo "---- $console ----" >&2
	tr -d '\r' <"$console" >&2
	echo "---- end of $console ----" >&2
fi

tail_console() {
	echo "---- last 50 lines of $console ----" >&2
	tail -n 50 "$console" | tr -d '\r' >&2
}

if [ $rc -eq 124 ]; then
	tail_console
	printf 'error: the guest timed out after %s s (TIMEOUT=%s)\n' "$TIMEOUT" "$TIMEOUT" >&2
	exit 124
fi
if [ $rc -ne 0 ]; then
	cat "$OUT/qemu.log" >&2
	tail_console
	die "qemu-system-x86_64 failed with status $rc"
fi

status=$(tr -d '\r' <"$console" | sed -n 's/.*rust-fence-exit: \([0-9][0-9]*\).*/\1/p' | tail -n 1)
if [ -z "$status" ]; then
	tail_console
	die "the guest did not finish (no rust-fence-exit marker: panic or crash?): see $console"
fi

if ! bash "$TOP/scripts/check-log.sh" "$console"; then
	printf 'error: kernel splat in the guest log: see %s\n' "$console" >&2
	exit 1
fi

failed=$(tr -d '\r' <"$console" | sed -n 's/.*rust-fence-insmod-failed: \([^ ]*\).*/\1/p' | head -n 1)
[ -z "$failed" ] || { printf 'error: insmod %s failed in the guest (status %s)\n' "$failed" "$status" >&2; exit "$status"; }

[ "$status" -eq 0 ] || msg "the guest command exited with status $status"
exit "$status"
