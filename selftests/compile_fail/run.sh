#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Compile-fail proofs of the rust_fence API, run on the host: each case in
# this directory is a tiny module that must NOT build, because a rule of the
# API is enforced by the type system; compiles_ok.rs is the positive control
# that must build. A case defines `fn case(module: &'static ThisModule) ->
# Result`; this script appends the module around it (scaffold.rs.in: the
# module! declaration, a fence provider `case_timeline()` and a detachable
# `CaseOps` table), so the line numbers of a case are its own.
#
#	run.sh KDIR		(env: LLVM, default -19)
#
# Needs the main modules built first (librust_fence.rmeta in the top dir).
# Each case is built as an out-of-tree module in build/compile_fail/<case>/
# (log: build.log there). Prints TAP; exits 0 whenever the cases ran (the
# results are in the TAP), non-zero only on a setup error.
#
# Header lines of a case (comments, before the code):
#	// proves: <the description of its TAP line>
#	// expect: ok			it must build
#	// expect-error: E0382 [E...]	it must fail with exactly these rustc
#					errors, each once, and no other error
#	// expect-message: <text>	and the log must contain this text
#					(optional, may be repeated)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
LLVM=${LLVM:--19}
OUT=$TOP/build/compile_fail

die() { printf 'compile_fail: error: %s\n' "$*" >&2; exit 2; }

[ $# -eq 1 ] || die "usage: $0 KDIR"
KDIR=$1
[ -f "$KDIR/Makefile" ] || die "KDIR '$KDIR' is not a kernel build tree"
[ -f "$KDIR/rust/libkernel.rmeta" ] || die "KDIR '$KDIR' has no Rust support built"
[ -f "$TOP/librust_fence.rmeta" ] ||
	die "$TOP/librust_fence.rmeta is missing: build the modules first (make)"

cases=()
for f in "$HERE"/*.rs; do
	[ -e "$f" ] && cases+=("$(basename "$f" .rs)")
done
[ ${#cases[@]} -gt 0 ] || die "no case (*.rs) in $HERE"
mkdir -p "$OUT" || die "cannot create $OUT"

# The value of header line "// <key>: value" (all of them, one a line).
header() { # file, key
	sed -n "s|^// $2: *||p" "$1"
}

# The error lines of a build log, each with its location line, as comments.
diagnostics() { # log
	awk '/^error: aborting due to/ { next }
	     /^error/ && n < 20 { print "# " $0; n++; want = 1; next }
	     want && /^ *--> / { print "# " $0; want = 0; next }
	     { want = 0 }' "$1"
}

echo "TAP version 13"
echo "1..${#cases[@]}"
n=0
for c in "${cases[@]}"; do
	n=$((n + 1))
	src=$HERE/$c.rs
	what=$(header "$src" proves)
	what=${what%%$'\n'*}
	what=${what:-(no "// proves:" line)}
	what=${what//#/\\#}
	expect=$(header "$src" expect)
	expect=${expect%%$'\n'*}
	codes=$(header "$src" expect-error | tr -s ' \t' '\n\n' | grep -v '^$' || true)

	# A fresh directory each time: nothing stale may pass for a result.
	dir=$OUT/$c
	rm -rf "$dir"
	mkdir -p "$dir"
	{ cat "$src"; sed "s/@CASE@/$c/g" "$HERE/scaffold.rs.in"; } >"$dir/$c.rs"
	printf 'obj-m := %s.o\nRUSTFLAGS_%s.o := -L %s --extern rust_fence\n' \
		"$c" "$c" "$TOP" >"$dir/Kbuild"
	log=$dir/build.log

	# With the library's exports, as a module built elsewhere: a case that
	# must build must also link.
	rc=0
	make -C "$KDIR" M="$dir" LLVM="$LLVM" KBUILD_EXTRA_SYMBOLS="$TOP/Module.symvers" modules \
		>"$log" 2>&1 || rc=$?

	why=()
	if [ "$expect" = ok ] && [ -z "$codes" ]; then
		[ $rc -eq 0 ] || why+=("must build, but the build failed (status $rc)")
	elif [ -n "$codes" ] && [ -z "$expect" ]; then
		if [ $rc -eq 0 ]; then
			why+=("built, but must fail with $(echo $codes)")
		else
			# Exactly the expected errors, each once: any other error,
			# even one with an expected code, is another reason.
			want=$(echo $(printf '%s\n' $codes | sort))
			got=$(echo $(sed -n 's/^error\[\(E[0-9]*\)\].*/\1/p' "$log" | sort))
			[ "$got" = "$want" ] ||
				why+=("fails with errors (${got:-none}), expected exactly ($want)")
			awk '/^error: / && !/^error: aborting due to/ { f = 1 }
			     END { exit !f }' "$log" &&
				why+=("fails with an error that has no code")
			while IFS= read -r m; do
				[ -z "$m" ] || grep -qF -- "$m" "$log" ||
					why+=("expected message missing: $m")
			done < <(header "$src" expect-message)
		fi
	else
		why+=("needs exactly one of \"// expect: ok\" and \"// expect-error: E....\"")
	fi

	if [ ${#why[@]} -eq 0 ]; then
		echo "ok $n compile_fail/$c: $what"
	else
		echo "not ok $n compile_fail/$c: $what"
		printf '# reason: %s\n' "${why[@]}"
		diagnostics "$log"
		if [ $rc -ne 0 ] && ! grep -q '^error' "$log"; then
			tail -n 10 "$log" | sed 's/^/# log: /'
		fi
		echo "# build log: $log"
	fi
done
exit 0
