#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Complete the kernel's rust-project.json for the cross-crate modules.

`make -C $KDIR M=... rust-analyzer` takes as crate roots the .rs files named
in a Makefile or Kbuild of their own directory, so it finds none of ours
(there is one Kbuild, at the top) but may find copies of the sources under
build/. This drops those, adds the library crate `rust_fence` (the first
object of `rust_fence-y` in Kbuild) and each crate of `rust_fence_users`,
with the dependencies the kernel gives an external module, the users also
on rust_fence.
"""

import json
import pathlib
import re
import sys


def kbuild_objects(top: pathlib.Path, var: str) -> list:
    """The objects of a Kbuild variable, as .rs paths relative to the top."""
    kbuild = (top / "Kbuild").read_text().replace("\\\n", " ")
    match = re.search(rf"^{re.escape(var)}\s*:=(.*)$", kbuild, re.MULTILINE)
    if not match:
        sys.exit(f"Kbuild has no {var}")
    return [str(pathlib.Path(o).with_suffix(".rs")) for o in match.group(1).split()]


def drop_crates(crates: list, drop) -> list:
    """The crates `drop` does not select, with their dependencies renumbered."""
    keep = [i for i, c in enumerate(crates) if not drop(c)]
    new_index = {old: new for new, old in enumerate(keep)}
    kept = []
    for old in keep:
        crate = crates[old]
        crate["deps"] = [dict(d, crate=new_index[d["crate"]])
                         for d in crate["deps"] if d["crate"] in new_index]
        kept.append(crate)
    return kept


def main() -> None:
    path = pathlib.Path(sys.argv[1])
    top = path.resolve().parent
    project = json.loads(path.read_text())
    ours = {"rust_fence"} | {pathlib.Path(r).stem for r in kbuild_objects(top, "rust_fence_users")}
    build = top / "build"
    crates = drop_crates(project["crates"], lambda c: c.get("display_name") in ours or
                         build in pathlib.Path(c["root_module"]).resolve().parents)
    index = {c.get("display_name"): i for i, c in enumerate(crates)}
    if "kernel" not in index:
        sys.exit("rust-project.json has no kernel crate")
    kernel = crates[index["kernel"]]
    # What generate_rust_analyzer.py gives a crate of an external module.
    deps = [{"crate": index[n], "name": n}
            for n in ("core", "kernel", "pin_init", "zerocopy", "zerocopy_derive") if n in index]

    def add(name: str, root: str, extra_deps: list, cfg: list) -> int:
        crates.append({
            "display_name": name,
            "root_module": str(top / root),
            "is_workspace_member": True,
            "is_proc_macro": False,
            "deps": deps + extra_deps,
            "cfg": cfg,
            "edition": kernel.get("edition", "2021"),
            "env": {"RUST_MODFILE": "This is only for rust-analyzer"},
        })
        return len(crates) - 1

    cfg = list(kernel.get("cfg", []))
    lib_root = kbuild_objects(top, "rust_fence-y")[0]
    # The library's tests are compiled in when KUnit is built in.
    lib = add("rust_fence", lib_root, [], cfg + ["rust_fence_kunit"])
    for root in kbuild_objects(top, "rust_fence_users"):
        add(pathlib.Path(root).stem, root, [{"crate": lib, "name": "rust_fence"}], cfg)
    project["crates"] = crates
    path.write_text(json.dumps(project, indent=4, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
