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

# Put cargo-installed tools (bindgen) on PATH even in a non-login shell.
case ":$PATH:" in
*":$HOME/.cargo/bin:"*) ;;
*) PATH="$HOME/.cargo/bin:$PATH" ;;
esac
export PATH
