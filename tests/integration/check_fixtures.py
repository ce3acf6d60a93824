#!/usr/bin/env python3
"""Check the fixture snapshots under fixtures/out against delve.

For every expected snapshot (matrix pairs x scenarios, plus the variants; plus any extra
snapshot directory found, e.g. many-streams-large): the snapshot exists and did not fail, its
truth.json parses and has the required keys, delve read the core (a non-empty goroutine
list), and every TRUTH goroutine is in delve's list with the same wait reason and with
delve's "User" function equal to TRUTH "function".

Prints one line per check, "ok|FAIL <pair>/<snapshot>: <what>", then
"fixtures: N passed, N failed"; exits 1 on any failure.

Usage: check_fixtures.py [OUT_DIR]   (default: fixtures/out of this repository)
"""
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "fixtures")

# "  Goroutine 27 - User: /path/file.go:189 pkg.(*T).f (0x719905) [select]"
# (delve 1.20-1.27; a leading "*" marks the current goroutine; the bracket is missing for a
# goroutine without wait reason, and newer delve may append the wait duration).
DLV_LINE = re.compile(
    r"^\s*\*?\s*Goroutine (\d+) - User: (.*?):(\d+) (\S+) \(0x[0-9a-f]+\)(?: \[(.*)\])?\s*$")

TRUTH_KEYS = ("scenario", "go", "grpc", "goroutines", "streams", "params")
G_KEYS = ("id", "role", "wait", "function", "verdict", "stream", "blames")


def read_rows(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if line:
                rows.append(line)
    return rows


def expected_snapshots():
    pairs = [r[0] for r in read_rows(os.path.join(FIXTURES, "matrix"))]
    scen_dir = os.path.join(FIXTURES, "scenarios")
    names = sorted(d for d in os.listdir(scen_dir)
                   if d != "common" and os.path.isfile(os.path.join(scen_dir, d, "main.go")))
    names += [r[0] for r in read_rows(os.path.join(FIXTURES, "variants"))]
    return [(p, n) for p in pairs for n in names]


# Wait reasons that a delve version names wrongly: its own table of the runtime's wait-reason
# strings is out of step with that Go version's numbering. (delve version prefix, the
# runtime's string) -> what that delve prints. Reported as "ok (known delve misnaming)".
# Empty: delve 1.24.0, which misnamed sync.Mutex.Lock on Go 1.22/1.24, is no longer the
# oracle for any pair (fixtures/matrix).
KNOWN_DELVE_MISNAMES = {}


def strip_wait(w):
    """Delve's bracket carries the goroutine's waitsince after the reason when it is set
    ("select 1080743618976", raw nanotime); newer versions may print a duration."""
    w = w.strip()
    m = re.match(r"^(.*?)(?:,? \d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|min|minutes)*)$", w)
    return m.group(1) if m and m.group(1) else w


def delve_version(snapdir):
    try:
        with open(os.path.join(snapdir, "versions.txt")) as f:
            for line in f:
                if line.startswith("delve "):
                    return line.split()[1]
    except OSError:
        pass
    return ""


def parse_dlv(path):
    gs = {}
    with open(path, errors="replace") as f:
        for line in f:
            m = DLV_LINE.match(line)
            if m:
                gs[int(m.group(1))] = {"function": m.group(4),
                                       "wait": strip_wait(m.group(5) or "")}
    return gs


def check_snapshot(out, pair, name):
    """Returns a list of (ok, what)."""
    d = os.path.join(out, pair, name)
    if not os.path.isdir(d):
        return [(False, "missing snapshot (run fixtures/make-snapshots.sh)")]
    failed = os.path.join(d, "FAILED")
    if os.path.exists(failed):
        with open(failed, errors="replace") as f:
            return [(False, "snapshot failed: " + f.read().strip())]
    res = []
    for fn in ("exe", "core", "truth.json", "dlv-goroutines.txt", "versions.txt"):
        if not os.path.isfile(os.path.join(d, fn)):
            res.append((False, "missing " + fn))
    if res:
        return res
    try:
        with open(os.path.join(d, "truth.json")) as f:
            truth = json.load(f)
        missing = [k for k in TRUTH_KEYS if k not in truth]
        for g in truth.get("goroutines", []):
            missing += ["goroutines[].%s" % k for k in G_KEYS if k not in g]
        if missing:
            raise ValueError("missing keys " + ", ".join(sorted(set(missing))))
        base = name[:-len("-large")] if name.endswith("-large") else name
        if truth["scenario"] not in (name, base) and not name.startswith(truth["scenario"] + "-"):
            raise ValueError("scenario %r in snapshot %s" % (truth["scenario"], name))
        if not truth["goroutines"] and truth["scenario"] != "none":
            raise ValueError("no goroutines")
    except (OSError, ValueError) as e:
        return [(False, "truth.json: %s" % e)]
    res.append((True, "truth parses (%d goroutines, go %s, grpc %s)"
                % (len(truth["goroutines"]), truth["go"], truth["grpc"])))

    dlv = parse_dlv(os.path.join(d, "dlv-goroutines.txt"))
    if not dlv:
        res.append((False, "delve listed no goroutines"))
        return res
    res.append((True, "delve read the core (%d goroutines)" % len(dlv)))

    bad, notes = [], []
    dv = delve_version(d)
    for g in truth["goroutines"]:
        dg = dlv.get(g["id"])
        if dg is None:
            bad.append("goroutine %d (%s) not in delve's list" % (g["id"], g["role"]))
            continue
        known = [v for (pfx, w), v in KNOWN_DELVE_MISNAMES.items()
                 if dv.startswith(pfx) and w == g["wait"]]
        if dg["wait"] != g["wait"] and dg["wait"] in known:
            notes.append("goroutine %d: delve %s prints [%s] for [%s] (known delve misnaming)"
                         % (g["id"], dv, dg["wait"], g["wait"]))
        elif dg["wait"] != g["wait"]:
            bad.append("goroutine %d (%s): delve wait [%s], truth [%s]"
                       % (g["id"], g["role"], dg["wait"], g["wait"]))
        if dg["function"] != g["function"]:
            bad.append("goroutine %d (%s): delve user function %s, truth %s"
                       % (g["id"], g["role"], dg["function"], g["function"]))
        for b in g["blames"]:
            if b not in dlv:
                bad.append("goroutine %d (%s) blames %d, which delve does not list"
                           % (g["id"], g["role"], b))
    if bad:
        res += [(False, b) for b in bad]
    else:
        res.append((True, "delve agrees on %d goroutines%s"
                    % (len(truth["goroutines"]), "; " + "; ".join(notes) if notes else "")))
    return res


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(FIXTURES, "out")
    expected = expected_snapshots()
    found = set()
    if os.path.isdir(out):
        for p in sorted(os.listdir(out)):
            pd = os.path.join(out, p)
            if os.path.isdir(pd):
                for n in sorted(os.listdir(pd)):
                    if os.path.isdir(os.path.join(pd, n)):
                        found.add((p, n))
    passed = failed = 0
    todo = expected + sorted(found - set(expected))
    for pair, name in todo:
        for ok, what in check_snapshot(out, pair, name):
            print("%s %s/%s: %s" % ("ok" if ok else "FAIL", pair, name, what))
            if ok:
                passed += 1
            else:
                failed += 1
    n_ok = sum(1 for p, n in expected if os.path.isfile(os.path.join(out, p, n, "truth.json"))
               and not os.path.exists(os.path.join(out, p, n, "FAILED")))
    if n_ok == len(expected):
        print("ok snapshots: %d of %d expected (matrix x scenarios + variants)" % (n_ok, len(expected)))
        passed += 1
    else:
        print("FAIL snapshots: %d of %d expected (matrix x scenarios + variants)" % (n_ok, len(expected)))
        failed += 1
    print("fixtures: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
