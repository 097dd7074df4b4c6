# SPDX-License-Identifier: GPL-2.0
#
# User entry points of rust-fence. Module builds go to Kbuild (see Kbuild),
# everything else to scripts/. `make help` lists the targets.

# The kernel to build against: the cached test kernel unless given.
KDIR ?= $(shell scripts/build-kernel.sh --print-dir 2>/dev/null)
LLVM ?= -19

KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=$(LLVM)
RUST_SOURCES = $(shell find . -name '*.rs' -not -path './build/*' -not -path './.git/*')
C_SOURCES = $(shell find . \( -name '*.c' -o -name '*.h' \) -not -path './build/*' \
	-not -path './.git/*' -not -name '*.mod.c' -not -name '*_generated.h')

.PHONY: all modules kdir-ok setup kernel check check-full run vm rust-analyzer fmt \
	fmtcheck clippy checkpatch clean help bench install-dev

all: modules

modules: kdir-ok
	$(KMAKE) modules

kdir-ok:
	@scripts/check-kdir.sh "$(KDIR)"

setup:
	@scripts/setup.sh

kernel: setup
	@scripts/build-kernel.sh >/dev/null

check:
	@RF_STRESS=quick scripts/check.sh

# The same, with the stress tests at their full counts: what CI runs.
check-full:
	@RF_STRESS=full scripts/check.sh

run:
	@scripts/run.sh

# Benchmarks on a kernel without the debug options: see scripts/bench.sh.
bench:
	@scripts/bench.sh

vm: modules
	@MODULES="$(CURDIR)/rust_fence.ko $(CURDIR)/fence_ops.ko" KDIR="$(KDIR)" scripts/vm.sh

# What a module built elsewhere needs to use the library, after `make`:
# the crate's metadata and the exports (Rust, see examples/rust_provider),
# and the C API's header. Both must come from the same kernel build and
# rustc as the module.
install-dev:
	@[ -n "$(DESTDIR)" ] || { echo 'usage: make install-dev DESTDIR=<dir>' >&2; exit 1; }
	@[ -f librust_fence.rmeta ] && [ -f Module.symvers ] || \
		{ echo 'install-dev: build the modules first (make)' >&2; exit 1; }
	install -d $(DESTDIR)/include
	install -m 0644 librust_fence.rmeta Module.symvers $(DESTDIR)/
	install -m 0644 rust_fence/include/rust_fence.h $(DESTDIR)/include/

rust-analyzer: kdir-ok
	$(KMAKE) rust-analyzer
	@scripts/rust-analyzer-extern.py rust-project.json

fmt: kdir-ok
	rustfmt --config-path $(KDIR)/.rustfmt.toml $(RUST_SOURCES)

fmtcheck: kdir-ok
	rustfmt --check --config-path $(KDIR)/.rustfmt.toml $(RUST_SOURCES)

# Clippy with every warning an error; the objects are rebuilt without clippy
# by the next plain build, since the command line differs.
clippy: kdir-ok
	$(KMAKE) CLIPPY=1 KRUSTFLAGS=-Dwarnings modules

checkpatch: kdir-ok
	$(KDIR)/scripts/checkpatch.pl --no-tree --terse --show-types -f $(C_SOURCES)

clean:
	@if [ -n "$(KDIR)" ] && [ -f "$(KDIR)/Makefile" ]; then $(KMAKE) clean; fi
	rm -rf build rust-project.json

help:
	@echo 'rust-fence targets:'
	@echo '  make [KDIR=...]   build rust_fence.ko and fence_ops.ko (default KDIR: the cached test kernel)'
	@echo '  make run          build what is missing, boot the test kernel, run the demo scenario'
	@echo '  make check        build, run every test suite in QEMU, print "N passed, N failed"'
	@echo '  make check-full   the same with the stress tests at full counts (CI)'
	@echo '  make RUST_FENCE_KUNIT=y  build the KUnit suite into rust_fence.ko (make check does)'
	@echo '  make bench        build a kernel without debug options, run the benchmarks, write build/bench/results.md'
	@echo '  make vm CMD=... [ADD="files"] [LOAD=no] [SMP=2] [TIMEOUT=s]  run a command in the VM'
	@echo '  make setup        install packages, rust-src, bindgen and the kernel source'
	@echo '  make kernel       build the test kernel into the cache (~/.cache/rust-fence)'
	@echo '  make install-dev DESTDIR=dir  install what modules built elsewhere need (examples/rust_provider)'
	@echo '  make rust-analyzer / fmt / fmtcheck / clippy / checkpatch / clean'
