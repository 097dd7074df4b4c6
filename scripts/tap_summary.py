#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarize TAP (kselftest, TAP13/14) and KTAP (KUnit) results.

    tap_summary.py [FILE...]     (no FILE or "-": standard input)

Counts leaf tests: a test with subtests counts as its subtests. Nesting
is read from the prefix before "ok"/"not ok"/"1..N": spaces (KTAP, 4 per
level; some producers use 2) or "# " (kselftest runners). A subtest
level without a result line of its parent, or with fewer results than
its plan (or more), counts as failed. Several TAP documents in a nested
level (a suite that runs two programs) count under the same parent. Kernel log timestamps ("[    1.234] ") and
other lines are ignored, so a whole console log can be given.

A top-level comment "# time: <name> <seconds> s" (run_tests.sh prints
one after each suite, check.sh one for each host step) gives the wall time
of a suite: they are printed as a table, slowest marked, before the result.
A comment "# figures: <text>" at any level (what a stress suite did: seeds
and operations, injection points, unload cycles) is printed under
"figures:" after that table.

Prints "FAIL: <path>" for each failure, then the last line
"N passed, N failed" (", N skipped" if any). Exits 0 if nothing failed
and something passed or skipped.
"""

import re
import sys

TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\] ?(?:\[\s*[CT]\d+\] ?)?")
PREFIX = re.compile(r"^((?:[ \t]|# )*)(.*)$")
RESULT = re.compile(r"^(not ok|ok)\b\s*(\d+)?\s*(?:- )?(.*)$")
PLAN = re.compile(r"^1\.\.(\d+)\b")
VERSION = re.compile(r"^K?TAP version \d+")
SUBTEST = re.compile(r"^Subtest:\s*(.*?)\s*$")
BAIL = re.compile(r"^Bail out!\s*(.*)$")
TIME = re.compile(r"^# time: (\S+(?: \S+)*?) (\d+(?:\.\d+)?) s\s*$")
FIGURES = re.compile(r"^figures: (.*?)\s*$")


class Level:
    """The results of one nesting level, one TAP document at a time."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.plan = None
        self.count = 0  # result lines seen at this level
        self.name = None  # from "# Subtest: name"
        self.leaves = []  # [path list, status, note, multiplicity]

    def used(self):
        return self.count > 0 or self.plan is not None or self.leaves

    def plan_check(self):
        """Leaves for the results announced by the plan but missing, or
        one failure for results beyond the plan."""
        if self.plan is not None and self.count < self.plan:
            missing = self.plan - self.count
            note = "%d of %d planned results missing" % (missing, self.plan)
            self.leaves.append([[], "fail", note, missing])
        elif self.plan is not None and self.count > self.plan:
            note = "%d results, %d planned" % (self.count, self.plan)
            self.leaves.append([[], "fail", note, 1])


def split_result(rest):
    m = RESULT.match(rest)
    ok, num, text = m.group(1) == "ok", m.group(2), m.group(3)
    # An unescaped "#" starts the directive (SKIP, TODO, TIMEOUT...).
    parts = re.split(r"(?<!\\)#", text, maxsplit=1)
    name = parts[0].strip()
    directive = parts[1].strip() if len(parts) > 1 else ""
    word = directive.split(" ", 1)[0].upper() if directive else ""
    if word.startswith("SKIP"):
        status = "skip"
    elif word.startswith("TODO") and not ok:
        status = "skip"
    else:
        status = "pass" if ok else "fail"
    return name, num, status


class Parser:
    def __init__(self):
        self.root = Level(None)  # collects everything, has no plan
        self.stack = [self.root]
        self.times = []  # (name, seconds) of the "# time:" lines
        self.figures = []  # the text of the "# figures:" lines

    def close_top(self):
        """Close the deepest level that never got its parent's result."""
        child = self.stack.pop()
        parent = self.stack[-1]
        if parent is self.root:
            child.plan_check()
            parent.leaves.extend(child.leaves)
            return
        name = child.name or "?"
        self.attach(parent, name, "fail", child, "no result line (crashed or hung?)")

    def attach(self, level, name, status, child, note=None):
        """Record a result at level; child holds its subtests or is None."""
        level.count += 1
        if child is None or not (child.count or child.leaves):
            level.leaves.append([[name], status, note, 1])
            return
        child.plan_check()
        failed = False
        for path, st, nt, n in child.leaves:
            level.leaves.append([[name] + path, st, nt, n])
            failed = failed or st == "fail"
        # A failed parent whose subtests all passed still failed.
        if status == "fail" and not failed:
            level.leaves.append([[name], "fail", note or "failed, no failed subtest", 1])

    def level_for(self, prefix):
        """Index of the level of prefix, closing or opening levels."""
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].prefix == prefix:
                return i
        j = 0
        for i in range(len(self.stack) - 1, 0, -1):
            if prefix.startswith(self.stack[i].prefix):
                j = i
                break
        while len(self.stack) - 1 > j:
            self.close_top()
        self.stack.append(Level(prefix))
        return len(self.stack) - 1

    def close_below(self, i):
        while len(self.stack) - 1 > i:
            self.close_top()

    def restart(self, i):
        """A new document at level i: close the old one first."""
        self.close_below(i)
        if self.stack[i].used():
            prefix = self.stack[i].prefix
            self.close_top()
            self.stack.append(Level(prefix))

    def next_document(self, i):
        """Another document in a nested level, as from a suite that runs
        two test programs: its results join the first one's, under the
        same parent result; each document is held to its own plan."""
        self.close_below(i)
        lvl = self.stack[i]
        lvl.plan_check()
        lvl.plan = None
        lvl.count = 0

    def line(self, raw):
        text = TIMESTAMP.sub("", raw.rstrip("\r\n"), count=1)
        t = TIME.match(text)
        if t:
            self.times.append((t.group(1), float(t.group(2))))
            return
        prefix, rest = PREFIX.match(text).groups()
        fig = FIGURES.match(rest)
        if fig and prefix.endswith("# "):
            self.figures.append(fig.group(1))
            return
        sub = SUBTEST.match(rest)
        if sub and prefix.endswith("# "):
            i = self.level_for(prefix[:-2])
            self.close_below(i)
            if self.stack[i].count:
                self.restart(i)
            self.stack[i].name = sub.group(1)
        elif VERSION.match(rest):
            i = self.level_for(prefix)
            if i >= 2 and self.stack[i].used():
                self.next_document(i)
            else:
                self.restart(i)
        elif PLAN.match(rest):
            i = self.level_for(prefix)
            self.close_below(i)
            lvl = self.stack[i]
            if lvl.plan is not None:
                self.restart(i)
                lvl = self.stack[i]
            lvl.plan = int(PLAN.match(rest).group(1))
        elif RESULT.match(rest):
            name, num, status = split_result(rest)
            i = self.level_for(prefix)
            self.close_below(i + 1)
            child = self.stack.pop() if len(self.stack) > i + 1 else None
            if not name:
                name = (child.name if child else None) or "#" + (num or "?")
            self.attach(self.stack[i], name, status, child)
        elif BAIL.match(rest):
            i = self.level_for(prefix)
            self.close_below(i)
            reason = BAIL.match(rest).group(1)
            self.stack[i].leaves.append([["Bail out!"], "fail", reason or None, 1])

    def finish(self):
        while len(self.stack) > 1:
            self.close_top()
        return self.root.leaves


def print_times(times):
    """The wall time of each suite, the slowest marked."""
    if not times:
        return
    slowest = max(t for _, t in times)
    print("wall time per suite (s):")
    for name, t in times:
        mark = "  <- slowest" if t == slowest and len(times) > 1 else ""
        print("%8.1f  %s%s" % (t, name, mark))
    print("%8.1f  total" % sum(t for _, t in times))


def main(argv):
    files = argv[1:] or ["-"]
    leaves = []
    times = []
    figures = []
    for f in files:
        p = Parser()
        if f == "-":
            stream = sys.stdin
        else:
            try:
                stream = open(f, encoding="utf-8", errors="replace")
            except OSError as e:
                print("tap_summary: %s" % e, file=sys.stderr)
                return 1
        with stream:
            for raw in stream:
                p.line(raw)
        leaves.extend(p.finish())
        times.extend(p.times)
        figures.extend(p.figures)

    print_times(times)
    if figures:
        print("figures:")
        for line in figures:
            print("  " + line)

    counts = {"pass": 0, "fail": 0, "skip": 0}
    for path, status, note, n in leaves:
        counts[status] += n
        if status == "fail":
            where = "/".join(path) or "(top level)"
            print("FAIL: %s%s" % (where, " (%s)" % note if note else ""))
    total = counts["pass"] + counts["skip"]
    if total + counts["fail"] == 0:
        print("tap_summary: no TAP/KTAP test results found", file=sys.stderr)
    summary = "%d passed, %d failed" % (counts["pass"], counts["fail"])
    if counts["skip"]:
        summary += ", %d skipped" % counts["skip"]
    print(summary)
    return 0 if counts["fail"] == 0 and total > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
