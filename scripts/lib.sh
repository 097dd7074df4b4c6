# SPDX-License-Identifier: GPL-2.0
# Shared settings of the rust-fence scripts. Sourced, not executed.

# The pinned kernel: Debian's linux-source package of this series.
KERNEL_SERIES=${KERNEL_SERIES:-7.3}
KERNEL_SUITE=${KERNEL_SUITE:-trixie-backports}

# bindgen release known to work with Linux 7.3 (the kernel needs 0.71.1 at least).
BINDGEN_VERSION=${BINDGEN_VERSION:-0.73.2}
LLVM_SUFFIX=${LLVM_SUFFIX:--19}

CACHE_DIR=${RUST_FENCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rust-fence}

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

msg() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# One TAP result of a harness test, numbered by tap_n: "ok N PREFIX: WHAT",
# or "not ok" followed by the details as comments.
tap_n=0
tap_result() { # prefix, ok (0/1), description, details...
	local prefix=$1 ok=$2 what=$3
	shift 3
	tap_n=$((tap_n + 1))
	if [ "$ok" -eq 0 ]; then
		echo "ok $tap_n $prefix: $what"
	else
		echo "not ok $tap_n $prefix: $what"
		printf '%s\n' "$@" | sed 's/^/# /'
	fi
}

# Put cargo-installed tools (bindgen) on PATH even in a non-login shell.
case ":$PATH:" in
*":$HOME/.cargo/bin:"*) ;;
*) PATH="$HOME/.cargo/bin:$PATH" ;;
esac
export PATH

# A busybox root file system in DIR: the userland of the test VM (vm.sh
# adds /init, the modules and the files to test), also used on the host
# by the tests of the harness (scripts/tests/test_runner.sh), in a chroot.
busybox_root() { # dir
	local root=$1 busybox applet
	busybox=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
	! command -v file >/dev/null || file -L "$busybox" | grep -q "statically linked" ||
		die "$busybox is not statically linked (apt-get install busybox-static)"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,etc,root}
	cp "$busybox" "$root/bin/busybox"
	# Applet links made here, so /init can run before anything is mounted.
	"$busybox" --list-full | while read -r applet; do
		[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
	done
}
