#!/usr/bin/env python3
"""Check the fixture snapshots under fixtures/out against delve and the Go runtime's dump.

For every expected snapshot (matrix pairs x scenarios, plus the variants, or the pair's own
snapshot list; plus any extra snapshot directory found, e.g. many-streams-large): the
snapshot exists and did not fail, its truth.json parses and has the required keys, delve read
the core (a non-empty goroutine list), and every TRUTH goroutine is in delve's list with the
same wait reason and with delve's "User" function equal to TRUTH "function". The runtime's own
goroutine dump taken after the core (runtime-goroutines.txt) must agree with TRUTH too, and
with delve wherever delve read the core: it is the oracle for executables without DWARF,
where delve's empty list is expected.

Prints one line per check, "ok|FAIL <pair>/<snapshot>: <what>", then
"fixtures: N passed, N failed"; exits 1 on any failure.

Usage: check_fixtures.py [OUT_DIR]   (default: fixtures/out of this repository)
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import runtime_own, woke_after_core, has_dwarf, runtime_goroutines  # noqa: E402

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
    """(pair, snapshot) for every matrix row: every scenario and variant, or the names of
    its fifth column ("all" or names joined by commas, as make-snapshots.sh reads it)."""
    scen_dir = os.path.join(FIXTURES, "scenarios")
    names = sorted(d for d in os.listdir(scen_dir)
                   if d != "common" and os.path.isfile(os.path.join(scen_dir, d, "main.go")))
    names += [r[0] for r in read_rows(os.path.join(FIXTURES, "variants"))]
    res = []
    for r in read_rows(os.path.join(FIXTURES, "matrix")):
        only = r[4] if len(r) > 4 else "all"
        res += [(r[0], n) for n in names if only == "all" or n in only.split(",")]
    return res


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
                gs[int(m.group(1))] = {"function": m.group(4), "line": int(m.group(3)),
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

    rt = None
    if os.path.exists(os.path.join(d, "later-core")):
        # Frozen twice for diff: it ran on after its core, so no dump shows that moment.
        res.append((True, "frozen again a moment later (later-core): no runtime dump taken"))
    elif not name.endswith("-large"):  # 50,000 goroutines: no dump is taken
        res += check_runtime_dump(d, truth)
        if os.path.isfile(os.path.join(d, "runtime-goroutines.txt")):
            rt = runtime_goroutines(d)
    dlv = parse_dlv(os.path.join(d, "dlv-goroutines.txt"))
    if not dlv and not has_dwarf(os.path.join(d, "exe")):
        res.append((True, "no DWARF: delve cannot read the core, as expected (%s); the runtime's dump is the oracle"
                    % last_line(os.path.join(d, "dlv-goroutines.txt"))))
        return res
    if not dlv:
        res.append((False, "delve listed no goroutines"))
        return res
    res.append((True, "delve read the core (%d goroutines)" % len(dlv)))
    if rt is not None:
        res += compare_dump_with_delve(rt, dlv)

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


def last_line(path):
    """Delve's last word (its error comes after its warnings)."""
    with open(path, errors="replace") as f:
        lines = [line.strip() for line in f if line.strip()]
    return lines[-1][-120:] if lines else "empty"


def check_runtime_dump(d, truth):
    """The runtime's own dump lists every TRUTH goroutine with its wait and user function."""
    if not os.path.isfile(os.path.join(d, "runtime-goroutines.txt")):
        return [(False, "missing runtime-goroutines.txt (the SIGQUIT dump)")]
    rt = runtime_goroutines(d)
    if not rt:
        return [(False, "runtime-goroutines.txt lists no goroutines")]
    bad = []
    for g in truth["goroutines"]:
        rg = rt.get(g["id"])
        if rg is None:
            bad.append("goroutine %d (%s) not in the runtime's dump" % (g["id"], g["role"]))
        elif (rg["reason"], rg["function"]) != (g["wait"], g["function"]):
            bad.append("goroutine %d (%s): runtime dump [%s] %s, truth [%s] %s"
                       % (g["id"], g["role"], rg["reason"], rg["function"], g["wait"], g["function"]))
    if bad:
        return [(False, b) for b in bad]
    return [(True, "the runtime's dump (%d goroutines) agrees on %d TRUTH goroutines"
             % (len(rt), len(truth["goroutines"])))]


def compare_dump_with_delve(rt, dlv):
    """Where delve reads the core, the runtime's dump must say the same: that is what makes
    the dump a trustworthy oracle where delve cannot read. Delve may list more (_Gdeadextra
    goroutines of Go 1.26+, which the runtime never prints)."""
    bad = ["goroutine %d is in the runtime's dump, not in delve's list" % i for i in sorted(set(rt) - set(dlv))]
    for i in sorted(set(rt) & set(dlv)):
        if (runtime_own(rt[i]["function"]) or runtime_own(dlv[i]["function"]) or
                woke_after_core(rt[i]["reason"])):
            continue  # may have run between the core and the dump: presence only
        # delve prints no wait reason for a goroutine the GC marked leaked (not _Gwaiting)
        reason = "" if rt[i].get("status") == "leaked" else rt[i]["reason"]
        if (reason, rt[i]["function"]) != (dlv[i]["wait"], dlv[i]["function"]):
            bad.append("goroutine %d: runtime dump [%s] %s, delve [%s] %s"
                       % (i, rt[i]["reason"], rt[i]["function"], dlv[i]["wait"], dlv[i]["function"]))
        elif rt[i]["line"] is not None and rt[i]["line"] != dlv[i]["line"]:
            bad.append("goroutine %d: runtime dump line %d, delve %d" % (i, rt[i]["line"], dlv[i]["line"]))
    if bad:
        return [(False, "runtime dump vs delve: " + b) for b in bad[:5]]
    return [(True, "the runtime's dump equals delve's list on %d goroutines (%d only in delve's)"
             % (len(rt), len(set(dlv) - set(rt))))]


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
