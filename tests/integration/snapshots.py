"""Shared helpers for integration tests: where the fixture snapshots are, and how to run the
analyser and read delve's goroutine list."""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.environ.get("GS_FIXTURES", os.path.join(ROOT, "fixtures", "out"))
GRPCSCOPE = os.environ.get("GS_BIN", os.path.join(ROOT, "build", "grpcscope"))


def snapshots():
    """Every snapshot dir (pair/scenario) that has exe and core, sorted; FAILED ones too."""
    found = []
    if not os.path.isdir(OUT):
        return found
    for pair in sorted(os.listdir(OUT)):
        pdir = os.path.join(OUT, pair)
        if not os.path.isdir(pdir):
            continue
        for scen in sorted(os.listdir(pdir)):
            d = os.path.join(pdir, scen)
            if os.path.isdir(d) and not scen.endswith("-large"):
                found.append((pair, scen, d))
    return found


def truth(d):
    with open(os.path.join(d, "truth.json")) as f:
        return json.load(f)


def run(args, timeout=120):
    p = subprocess.run([GRPCSCOPE] + args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def run_json(args, timeout=120):
    rc, out, err = run(args + ["--json"], timeout)
    if rc != 0:
        raise RuntimeError("grpcscope %s: exit %d: %s" % (" ".join(args), rc, err.strip()))
    return json.loads(out)


# "  Goroutine 17 - User: /path/file.go:123 pkg.fn (0x4a1b2c) [chan receive]" plus,
# in newer delve, extra annotations after the bracket or a thread marker.
_DLV = re.compile(r"^[ *]*Goroutine (\d+) - User: (.*?):(\d+) (\S+) \(0x[0-9a-f]+\)(.*)$")


def delve_goroutines(d):
    """{goid: {"file", "line", "function", "reason"}} from delve's saved listing."""
    res = {}
    path = os.path.join(d, "dlv-goroutines.txt")
    with open(path, errors="replace") as f:
        for line in f:
            m = _DLV.match(line.rstrip("\n"))
            if not m:
                continue
            rest = m.group(5)
            reason = ""
            b = re.search(r"\[(.*?)\]", rest)
            if b:
                reason = b.group(1)
                # delve appends the wait time ("[chan receive 3m]") in some versions
                reason = re.sub(r"\s+\d+(\.\d+)?[hms]+$", "", reason)
                # delve 1.20 appends the raw waitsince nanotime ("[select 975017615054]")
                reason = re.sub(r"\s+\d{6,}$", "", reason)
            res[int(m.group(1))] = {"file": m.group(2), "line": int(m.group(3)),
                                    "function": m.group(4), "reason": reason,
                                    "thread": "(thread" in rest}
    return res


def each_snapshot(t, commands):
    """Yields (pair, scenario, dir, name, [JSON of each command]) for every snapshot; an
    incomplete snapshot or a failing command is a failure of its own, and is skipped."""
    snaps = snapshots()
    t.check(len(snaps) > 0, "snapshots exist")
    for pair, scen, d in snaps:
        name = "%s/%s" % (pair, scen)
        exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
        if not os.path.exists(core):
            t.fail("%s: incomplete snapshot" % name)
            continue
        try:
            results = [run_json(c + [exe, core]) for c in commands]
        except Exception as e:  # noqa: BLE001 - any failure is a test failure
            t.fail("%s: %s" % (name, e))
            continue
        yield pair, scen, d, name, results


class Tally:
    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def ok(self, what):
        self.passed += 1
        print("ok   %s" % what)

    def fail(self, what):
        self.failed += 1
        print("FAIL %s" % what)

    def check(self, cond, what):
        (self.ok if cond else self.fail)(what)
        return cond

    def finish(self):
        print("%s: %d passed, %d failed" % (self.name, self.passed, self.failed))
        sys.exit(1 if self.failed else 0)
