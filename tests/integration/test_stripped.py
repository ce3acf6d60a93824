#!/usr/bin/env python3
"""Without DWARF and without symbols, the same answers (issue 12).

For every fixture snapshot whose executable has DWARF or a symbol table, a copy of it stripped
with `objcopy --strip-all` reads the same core: `info`, `goroutines` (with and without
`--stacks`), `streams` and `why-blocked` JSON (and `why-blocked --peer` for two-process
snapshots) must equal the original run's, except for what says where an answer came from
(normalise()); `selfcheck` on the stripped copy must exit 0. One check per comparison.
Snapshots built without DWARF and symbols (the -sw variants) are checked against their TRUTH
by the other tests; stripping them again changes nothing, so they are only listed here. A
live process of each peer-silent-sw build is read with --pid.

GS_STRIP_DRY_RUN=1 copies the executable through `objcopy` without removing anything, and
runs the live checks on peer-silent: a run of this test's own logic (copying, comparing,
normalising) while grpcscope still needs DWARF.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import Tally, elf_sections, run, snapshots  # noqa: E402
from debuggers import check_live_goroutines, check_live_verdicts, start, threads_running  # noqa: E402

COMMANDS = (["info"], ["goroutines"], ["goroutines", "--stacks"], ["streams"], ["why-blocked"])

# What may differ between the DWARF run and the stripped run: markers of where a field, type
# or global came from, and warnings that say DWARF (or the symbol table) is missing.
IGNORED_KEYS = {"source", "sources", "debug_info", "debug_file", "debug_searched"}
IGNORED_WARNING = re.compile(r"dwarf|symbol table|\.symtab", re.IGNORECASE)


def normalise(v, paths):
    """v without source markers and DWARF warnings, with the paths of the stripped copy
    replaced by the original's (paths: {copy: original})."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k in IGNORED_KEYS:
                continue
            if k == "warnings" and isinstance(x, list):
                x = [w for w in x if not (isinstance(w, str) and IGNORED_WARNING.search(w))]
                if not x:
                    continue
            out[k] = normalise(x, paths)
        return out
    if isinstance(v, list):
        return [normalise(x, paths) for x in v]
    if isinstance(v, str):
        for a, b in paths.items():
            v = v.replace(a, b)
    return v


def first_difference(a, b, where="$"):
    """Where two JSON values first differ, said in one line, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return "%s.%s only %s" % (where, k, "in the original's" if k in a else "in the stripped's")
            d = first_difference(a[k], b[k], "%s.%s" % (where, k))
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, "%s[%d]" % (where, i))
            if d:
                return d
        if len(a) != len(b):
            return "%s: %d entries original, %d stripped" % (where, len(a), len(b))
        return None
    if a != b:
        return "%s: %s original, %s stripped" % (where, json.dumps(a)[:100], json.dumps(b)[:100])
    return None


def json_of(args):
    """(JSON, None) or (None, why not)."""
    rc, out, err = run(args + ["--json"], timeout=300)
    if rc != 0:
        return None, "exit %d: %s" % (rc, err.strip()[:300])
    try:
        return json.loads(out), None
    except ValueError as e:
        return None, "not JSON (%s)" % e


def strip_copy(exe, dest):
    args = [] if os.environ.get("GS_STRIP_DRY_RUN") else ["--strip-all"]
    p = subprocess.run(["objcopy"] + args + [exe, dest], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("objcopy %s: %s" % (exe, p.stderr.strip()))
    left = {".debug_info", ".zdebug_info", ".symtab"} & elf_sections(dest)
    if args and left:
        raise RuntimeError("objcopy --strip-all left %s in %s" % (sorted(left), exe))


def compare(t, name, what, original, stripped, paths):
    a, why_a = json_of(original)
    b, why_b = json_of(stripped)
    if a is None or b is None:
        t.fail("%s: %s: %s" % (name, what, "original " + why_a if a is None else "stripped " + why_b))
        return
    d = first_difference(normalise(a, paths), normalise(b, paths))
    t.check(d is None, "%s: %s equal with the stripped executable%s" % (name, what, "" if d is None else ": " + d))


def live_checks(t, snaps):
    """A live process of every -s -w build of peer-silent, read with --pid."""
    want = "peer-silent" if os.environ.get("GS_STRIP_DRY_RUN") else "peer-silent-sw"
    lives = [(p, d) for p, scen, d in snaps if scen == want]
    t.check(len(lives) > 0, "%s snapshots exist for the live checks" % want)
    for pair, d in lives:
        name = "%s/%s live" % (pair, want)
        try:
            p, tr = start(os.path.join(d, "exe"))
        except (OSError, RuntimeError) as e:
            t.fail("%s: %s" % (name, e))
            continue
        try:
            rc, out, err = run(["goroutines", "--json", "--pid", str(p.pid)])
            t.check(rc == 0, "%s: goroutines --pid exit %d %s" % (name, rc, err.strip()[:200]))
            check_live_goroutines(t, name, out if rc == 0 else '{"goroutines": []}', tr)
            rc, out, err = run(["why-blocked", "--json", "--pid", str(p.pid)])
            if t.check(rc == 0, "%s: why-blocked --pid exit %d %s" % (name, rc, err.strip()[:200])):
                check_live_verdicts(t, name, out, tr)
            t.check(threads_running(p.pid), "%s: every thread runs again after the reads" % name)
        finally:
            p.kill()
            p.wait()


def main():
    t = Tally("stripped")
    snaps = snapshots()
    t.check(len(snaps) > 0, "snapshots exist under fixtures/out (run make fixtures)")
    if os.environ.get("GS_STRIP_DRY_RUN"):
        print("note GS_STRIP_DRY_RUN: the copies keep DWARF and symbols")
    tmp = tempfile.mkdtemp(prefix="gs-stripped.")
    try:
        for pair, scen, d in snaps:
            name = "%s/%s" % (pair, scen)
            exe, core, pcore = (os.path.join(d, f) for f in ("exe", "core", "peer-core"))
            if os.path.exists(os.path.join(d, "FAILED")):
                t.fail("%s: snapshot failed to build: %s" % (name, open(os.path.join(d, "FAILED")).read().strip()))
                continue
            if not (os.path.exists(exe) and os.path.exists(core)):
                t.fail("%s: incomplete snapshot" % name)
                continue
            if not {".debug_info", ".zdebug_info", ".symtab"} & elf_sections(exe):
                print("note %s: built without DWARF and symbols, nothing to strip" % name)
                continue
            bare = os.path.join(tmp, "%s-%s-exe" % (pair, scen))
            try:
                strip_copy(exe, bare)
            except RuntimeError as e:
                t.fail("%s: %s" % (name, e))
                continue
            paths = {bare: exe}
            for c in COMMANDS:
                compare(t, name, " ".join(c) + " --json", c + [exe, core], c + [bare, core], paths)
            if os.path.exists(pcore):
                c = ["why-blocked", "--peer"]
                compare(t, name, "why-blocked --peer --json", c + [exe, pcore, exe, core],
                        c + [bare, pcore, bare, core], paths)
            rc, out, err = run(["selfcheck", "--json", bare, core], timeout=300)
            try:
                missing = [f["type"] + "." + f["field"] for f in json.loads(out)["fields"] if f["state"] == "MISSING"]
            except (ValueError, KeyError, TypeError):
                missing = ["(no JSON)"]
            t.check(rc == 0, "%s: selfcheck on the stripped executable exits 0 (exit %d%s%s)"
                    % (name, rc, "; missing " + ", ".join(missing[:5]) if missing else "",
                       "; " + err.strip()[:200] if rc else ""))
            os.unlink(bare)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    live_checks(t, snaps)
    t.finish()


if __name__ == "__main__":
    main()
