#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Complete the kernel's rust-project.json for the cross-crate modules.

`make -C $KDIR M=... rust-analyzer` finds the crate roots named in Kbuild
(rust_fence.rs) but not the ones in subdirectories, and it does not know
that those import `rust_fence` with `--extern`. This adds each user crate
of rust_fence with the same dependencies plus rust_fence.
"""

import json
import pathlib
import re
import sys


def users(top: pathlib.Path) -> list:
    """The crate roots that `use rust_fence`: `rust_fence_users` of Kbuild, as .rs files."""
    kbuild = (top / "Kbuild").read_text().replace("\\\n", " ")
    match = re.search(r"^rust_fence_users\s*:=(.*)$", kbuild, re.MULTILINE)
    if not match:
        sys.exit("Kbuild has no rust_fence_users")
    return [str(pathlib.Path(o).with_suffix(".rs")) for o in match.group(1).split()]


def main() -> None:
    path = pathlib.Path(sys.argv[1])
    top = path.resolve().parent
    project = json.loads(path.read_text())
    crates = project["crates"]
    index = {c.get("display_name"): i for i, c in enumerate(crates)}
    if "rust_fence" not in index:
        sys.exit("rust-project.json has no rust_fence crate")
    lib = crates[index["rust_fence"]]
    lib_idx = index["rust_fence"]
    # The library's tests are compiled in when KUnit is built in.
    lib.setdefault("cfg", []).append("rust_fence_kunit")
    for root in users(top):
        name = pathlib.Path(root).stem
        if name in index:
            continue
        crate = dict(lib)
        crate["display_name"] = name
        crate["root_module"] = str(top / root)
        crate["deps"] = lib["deps"] + [{"crate": lib_idx, "name": "rust_fence"}]
        crate["cfg"] = [c for c in lib["cfg"] if c != "rust_fence_kunit"]
        if "source" in lib:
            crate["source"] = {"include_dirs": [str(top / pathlib.Path(root).parent)],
                               "exclude_dirs": []}
        crates.append(crate)
    path.write_text(json.dumps(project, indent=4, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
