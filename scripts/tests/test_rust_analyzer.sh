#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make rust-analyzer: the project file names the library crate at its root,
# every user of Kbuild's rust_fence_users with rust_fence among its
# dependencies, and no crate from build/ (make bench copies the sources
# there). Prints TAP; exits non-zero if a check failed.
#
#   test_rust_analyzer.sh KDIR
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

[ $# -eq 1 ] || die "usage: test_rust_analyzer.sh KDIR"
echo "TAP version 13"
echo "1..1"
if ! out=$(make -s -C "$TOP" KDIR="$1" rust-analyzer 2>&1); then
	echo "not ok 1 rust-analyzer: make rust-analyzer failed"
	printf '%s\n' "$out" | tail -n 20 | sed 's/^/# /'
	exit 1
fi
if problems=$(python3 - "$TOP" <<'PY'
import json
import pathlib
import re
import sys

top = pathlib.Path(sys.argv[1]).resolve()
crates = json.loads((top / "rust-project.json").read_text())["crates"]
kbuild = (top / "Kbuild").read_text().replace("\\\n", " ")
users = re.search(r"^rust_fence_users\s*:=(.*)$", kbuild, re.M).group(1).split()
by_name = {}
problems = []
for i, c in enumerate(crates):
    root = pathlib.Path(c["root_module"]).resolve()
    if top / "build" in root.parents:
        problems.append(f"crate {c['display_name']} from build/: {root}")
    by_name.setdefault(c["display_name"], []).append((i, root))
lib = by_name.get("rust_fence", [])
if [r for _, r in lib] != [top / "rust_fence" / "rust_fence_main.rs"]:
    problems.append(f"rust_fence crate roots: {[str(r) for _, r in lib]}")
for o in users:
    name = pathlib.Path(o).stem
    found = by_name.get(name, [])
    if len(found) != 1 or found[0][1] != (top / o).with_suffix(".rs"):
        problems.append(f"user {name}: {found}")
        continue
    deps = crates[found[0][0]]["deps"]
    if lib and not any(d["crate"] == lib[0][0] and d["name"] == "rust_fence" for d in deps):
        problems.append(f"user {name} does not depend on rust_fence")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
); then
	echo "ok 1 rust-analyzer: the library and its users have the right roots and dependencies"
else
	echo "not ok 1 rust-analyzer: rust-project.json is wrong"
	printf '%s\n' "$problems" | sed 's/^/# /'
	exit 1
fi
