#!/usr/bin/env python3
"""Damage and misuse (issue 14): never a confident wrong answer.

On real fixture snapshots, each case either analyses with a warning (stderr, and "warnings"
in JSON) and invents nothing, or is refused with exit 2 naming the file:
  - wrong executables: another program of the same Go version, another Go version, a PIE
    core with a position-dependent executable and the reverse; --force warns;
  - random bytes over the g's, over the allgs array, over a transport, over the notes;
  - cores cut at 1 %, 50 % and 99 % of their size (gcore writes the notes last);
  - a FIFO as EXE, CORE, --peer or as the executable a core records (never hangs);
  - output to /dev/full; escape sequences and newlines in a path the core records;
  - positionals told by syntax; a usage error with --pid never touches the process;
  - a live target already traced by another process.
"Nothing lost": the goroutines a damaged copy still holds intact are listed exactly as in
the intact core. Damaged copies are sparse, in a temporary directory."""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import damage_lib as dl  # noqa: E402
from snapshots import GRPCSCOPE, OUT, Tally, run, snapshots  # noqa: E402

PAIRS = ("go127-grpc181", "go124-grpc164", "go122-grpc164", "go119-grpc133")


def pick(snaps, scen, pair):
    for p, s, d in snaps:
        if s == scen and p == pair and os.path.exists(os.path.join(d, "core")) and \
                not os.path.exists(os.path.join(d, "FAILED")):
            return d
    return None


def choose(snaps):
    """A pair with peer-silent, handler-blocked and handler-blocked-pie, and peer-silent of
    another pair (another Go version)."""
    for a in PAIRS:
        if all(pick(snaps, s, a) for s in ("peer-silent", "handler-blocked", "handler-blocked-pie")):
            other = [b for b in PAIRS if b != a and pick(snaps, "peer-silent", b)]
            if other:
                return a, other[0]
    return None, None


def warnings_of(j):
    return j.get("warnings") if isinstance(j, dict) else None


def run_j(args, timeout=120):
    rc, out, err = run(args + ["--json"], timeout)
    try:
        j = json.loads(out) if out else None
    except ValueError:
        j = "invalid JSON"
    return rc, j, err


def refused(t, what, args, names, timeout=60):
    """Exit 2, nothing on stdout, one line on stderr naming each of names."""
    try:
        rc, out, err = run(args, timeout=timeout)
    except subprocess.TimeoutExpired:
        t.fail("%s: still running after %d s (hangs)" % (what, timeout))
        return
    lines = err.strip().splitlines()
    t.check(rc == 2 and out == "" and len(lines) == 1 and all(n in lines[0] for n in names),
            "%s -> exit %d, stdout %d bytes, stderr %r" % (what, rc, len(out), err.strip()[:400]))


def g_size(exe):
    nm = subprocess.run(["nm", "-S", exe], capture_output=True, text=True, check=True).stdout
    for line in nm.splitlines():
        p = line.split()
        if len(p) == 4 and p[3] == "runtime.g0":
            return int(p[1], 16)
    return 512


def by_id(j):
    return {g["id"]: g for g in j.get("goroutines", [])} if isinstance(j, dict) else {}


def same_or_lost(a, b):
    """b says what a says, or less: a value it could not read is null, absent or cut from
    the end of a list (what a goroutine waits on, in memory a cut core lost), never another
    value."""
    if b is None:
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return set(b) <= set(a) and all(same_or_lost(a[k], b.get(k)) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(b) <= len(a) and all(same_or_lost(x, y) for x, y in zip(a, b))
    return a == b


def nothing_invented(t, what, intact, dmg, spared=None):
    """Every goroutine listed is the intact core's, field for field; spared (ids): those
    that must all be there."""
    ia, da = by_id(intact), by_id(dmg)
    odd = [i for i, g in da.items() if ia.get(i) != g]
    lost = [i for i in (spared or []) if i not in da]
    t.check(not odd and not lost, "%s: %d goroutines listed, none invented or altered %s, none "
            "of the %d intact ones lost %s" % (what, len(da), odd[:5], len(spared or []), lost[:5]))


def wrong_executables(t, a, b, c, pie, other, tmp):
    exe, core = os.path.join(a, "exe"), os.path.join(a, "core")
    refused(t, "exe of another program, same Go", ["why-blocked", os.path.join(c, "exe"), core],
            [os.path.join(c, "exe"), core])
    refused(t, "exe of another Go version", ["why-blocked", os.path.join(other, "exe"), core],
            [os.path.join(other, "exe"), core])
    refused(t, "PIE core with a position-dependent exe",
            ["why-blocked", os.path.join(c, "exe"), os.path.join(pie, "core")],
            [os.path.join(c, "exe"), os.path.join(pie, "core")])
    refused(t, "position-dependent core with a PIE exe",
            ["goroutines", os.path.join(pie, "exe"), core], [os.path.join(pie, "exe"), core])
    refused(t, "PIE core with another Go version's exe",
            ["info", os.path.join(other, "exe"), os.path.join(pie, "core")],
            [os.path.join(other, "exe"), os.path.join(pie, "core")])
    other_pie = os.path.join(os.path.dirname(other), "handler-blocked-pie")
    if os.path.exists(os.path.join(other_pie, "core")):
        refused(t, "PIE core with the PIE exe of another Go version",
                ["why-blocked", os.path.join(other_pie, "exe"), os.path.join(pie, "core")],
                [os.path.join(other_pie, "exe"), os.path.join(pie, "core")])
    for d in (a, pie):
        rc, j, err = run_j(["info", os.path.join(d, "exe"), os.path.join(d, "core")])
        t.check(rc == 0 and warnings_of(j) == [] and err == "",
                "%s with its own exe: exit %d, no warnings (%r)" % (d, rc, err[:200]))
    rc, out, err = run(["why-blocked", "--force", os.path.join(c, "exe"), os.path.join(pie, "core")])
    t.check(rc in (0, 2) and "read with --force although" in err and
            "not the executable of" in err,
            "--force over a PIE core with a position-dependent exe says the mismatch (exit %d, %r)"
            % (rc, err.strip()[:300]))
    rc, out, err = run(["why-blocked", "--force", os.path.join(c, "exe"), core])
    t.check(rc != 0 or "warning: read with --force although" in err,
            "--force over a mismatch warns (exit %d, %r)" % (rc, err[:300]))


def over_gs(t, a, tmp, intact):
    exe, core = os.path.join(a, "exe"), os.path.join(a, "core")
    rc, intact_verdicts, _ = run_j(["why-blocked", exe, core])
    arr, ptrs = dl.allgs(core, exe)
    gsize = g_size(exe)
    live = sorted(p for p in ptrs if p)
    start = live[len(live) // 3]
    for off, seed in ((0, 1), (0x48, 2), (gsize // 2, 3)):
        p = dl.copy(core, os.path.join(tmp, "gs.core"))
        lo, hi = start + off, start + off + 8192
        dl.scribble(p, lo, 8192, seed)
        spared = [g["id"] for g in intact["goroutines"]
                  if int(g["address"], 16) + gsize <= lo or int(g["address"], 16) >= hi]
        rc, j, err = run_j(["goroutines", exe, p])
        what = "8 KiB of random bytes over the g's at +0x%x" % off
        t.check(rc == 0 and warnings_of(j) and "warning:" in err and
                j["unreadable"]["count"] > 0 and j["unreadable"]["implausible"],
                "%s: exit %d, %d implausible, warned %r" % (
                    what, rc, len(j["unreadable"]["implausible"]) if rc == 0 else -1, err[:200]))
        nothing_invented(t, what, intact, j, spared)
        rc, out, err = run(["goroutines", exe, p])
        t.check(rc == 0 and "implausible, left out" in out and "warning:" in err,
                "%s: the text names the implausible g's" % what)
        rc, ij, err = run_j(["info", exe, p])
        t.check(rc == 0 and ij["implausible_goroutines"] > 0 and warnings_of(ij),
                "%s: info counts %s implausible" % (what, ij.get("implausible_goroutines") if rc == 0 else "?"))
        for cmd in ("why-blocked", "streams"):
            rc, wj, err = run_j([cmd, exe, p])
            t.check(rc == 0 and warnings_of(wj) and "warning:" in err,
                    "%s: %s warns (exit %d, %r)" % (what, cmd, rc, err[:200]))
            if cmd == "why-blocked" and rc == 0:
                ids = by_id(intact)
                odd = [v["goroutine"] for v in wj["verdicts"] if v["goroutine"] not in ids]
                t.check(not odd, "%s: every verdict is about a real goroutine %s" % (what, odd))
                # Nothing lost: the verdicts of goroutines the damage spared are the intact
                # core's (or unknown, when they rest on what was damaged).
                iv = {v["goroutine"]: v["verdict"] for v in intact_verdicts["verdicts"]}
                dv = {v["goroutine"]: v["verdict"] for v in wj["verdicts"]}
                changed = [(g, iv.get(g), dv.get(g)) for g in spared
                           if iv.get(g) != dv.get(g) and dv.get(g) != "unknown"]
                t.check(not changed, "%s: the spared goroutines' verdicts are unchanged %s"
                        % (what, changed[:5]))
        rc, out, err = run(["why-blocked", exe, p])
        t.check(rc == 0 and "warning:" in err, "%s: why-blocked text warns on stderr" % what)


def over_allgs(t, a, tmp, intact):
    exe, core = os.path.join(a, "exe"), os.path.join(a, "core")
    arr, ptrs = dl.allgs(core, exe)
    p = dl.copy(core, os.path.join(tmp, "allgs.core"))
    k = len(ptrs) // 2
    dl.scribble(p, arr + 8 * k, 8 * (len(ptrs) - k), 11)
    spared = [g["id"] for g in intact["goroutines"] if int(g["address"], 16) in ptrs[:k]]
    rc, j, err = run_j(["goroutines", exe, p])
    t.check(rc == 0 and warnings_of(j) and "warning:" in err,
            "random bytes over half the allgs array: exit %d, warned (%r)" % (rc, err[:200]))
    nothing_invented(t, "random bytes over the allgs array", intact, j, spared)


def over_transport(t, a, tmp):
    exe, core = os.path.join(a, "exe"), os.path.join(a, "core")
    rc, s0, _ = run_j(["streams", exe, core])
    tr = [x for x in s0.get("transports", [])] if rc == 0 else []
    if not t.check(tr, "the intact core has transports"):
        return
    for x in tr:
        taddr = int(x["address"], 16)
        for off in (0, 0x100):
            what = "random bytes over the %s transport at +0x%x" % (x["side"], off)
            p = dl.copy(core, os.path.join(tmp, "tr.core"))
            dl.scribble(p, taddr + off, 1024 - off, 5)
            for cmd in ("streams", "why-blocked", "goroutines"):
                rc, j, err = run_j([cmd, exe, p])
                t.check(rc == 0 and warnings_of(j) and "warning:" in err,
                        "%s: %s exits 0 with a warning (exit %d, %r)" % (what, cmd, rc, err[:200]))
                if cmd != "streams" or rc != 0:
                    continue
                got = [y for y in j.get("transports", []) if y["address"] == x["address"]]
                # Left out (named in the warning), or kept with its problem and without the
                # numbers that memory no longer holds.
                t.check(not got or (got[0].get("problem") and
                                    (not got[0].get("implausible") or "stream_quota" not in got[0])),
                        "%s: the transport is left out or carries its problem (%r)"
                        % (what, got[0].get("problem") if got else None))


def over_stream(t, a, tmp):
    """Random bytes over a stream's header: not listed with a garbage id or state."""
    exe, core = os.path.join(a, "exe"), os.path.join(a, "core")
    rc, s0, _ = run_j(["streams", exe, core])
    sts = [s for x in s0.get("transports", []) for s in x["streams"]] if rc == 0 else []
    if not t.check(sts, "the intact core has streams"):
        return
    st = sts[0]
    p = dl.copy(core, os.path.join(tmp, "st.core"))
    dl.scribble(p, int(st["address"], 16), 64, 9)
    rc, j, err = run_j(["streams", exe, p])
    got = [s for x in j.get("transports", []) for s in x["streams"]
           if s["address"] == st["address"]] if rc == 0 else []
    t.check(rc == 0 and warnings_of(j) and "warning:" in err and
            (not got or (got[0]["id"] == st["id"] and got[0]["state"] == st["state"])),
            "random bytes over a stream: left out or unchanged where it counts, with a "
            "warning (exit %d, %r)" % (rc, err[:200]))
    rc, j, err = run_j(["why-blocked", exe, p])
    t.check(rc == 0 and warnings_of(j) and "warning:" in err,
            "random bytes over a stream: why-blocked warns (exit %d)" % rc)


def over_notes(t, a, tmp):
    exe, core = os.path.join(a, "exe"), os.path.join(a, "core")
    note = dl.note_segment(core)
    p = dl.copy(core, os.path.join(tmp, "notes.core"))
    with open(p, "r+b") as f:
        f.seek(note[2])
        f.write(os.urandom(4096))
    rc, j, err = run_j(["why-blocked", exe, p])
    t.check(rc == 0 and any("notes" in w for w in warnings_of(j) or []) and "notes" in err,
            "random bytes over the notes, EXE given: analysed with a warning (exit %d, %r)"
            % (rc, err[:300]))
    refused(t, "random bytes over the notes, core only", ["info", p], [p, "EXE CORE"])


def truncated(t, a, pie, tmp, intact):
    exe, core = os.path.join(a, "exe"), os.path.join(a, "core")
    for frac in (0.99, 0.5, 0.01):
        p = os.path.join(tmp, "cut%d.core" % int(frac * 100))
        lost = dl.cut(core, p, frac)
        what = "core cut at %d %% (%d bytes lost)" % (frac * 100, lost)
        rc, j, err = run_j(["goroutines", exe, p])
        # Documented choice: a cut core is analysed as far as it goes; exit 2 only when not
        # even the runtime's globals are left (then one line naming the core).
        if rc == 2:
            t.check(p in err and len(err.strip().splitlines()) == 1,
                    "%s: refused naming the file (%r)" % (what, err.strip()))
            continue
        ws = warnings_of(j) or []
        t.check(rc == 0 and any("truncated" in w and "bytes" in w for w in ws) and
                any("thread registers" in w for w in ws) and "warning:" in err,
                "%s: analysed with warnings (exit %d, %r)" % (what, rc, ws))
        # Nothing lost: the goroutines left are the intact core's; running ones have no
        # registers without the notes, so only their ids are compared.
        ia = by_id(intact)
        odd = [i for i, g in by_id(j).items()
               if i not in ia or (not same_or_lost(ia[i], g) and g["status"] != "running")]
        t.check(not odd, "%s: no goroutine invented or altered %s" % (what, odd[:5]))
        if frac == 0.99:
            missing = [i for i in ia if i not in by_id(j)]
            t.check(not missing, "%s: every goroutine still there %s" % (what, missing[:5]))
        for cmd in ("info", "why-blocked", "streams"):
            rc, out, err = run([cmd, exe, p])
            t.check(rc == 0 and "warning:" in err and "truncated" in err,
                    "%s: %s warns on stderr (exit %d)" % (what, cmd, rc))
    p = os.path.join(tmp, "cut99.core")
    refused(t, "a cut core without EXE", ["why-blocked", p], [p, "give EXE CORE"])
    p = os.path.join(tmp, "headers.core")
    with open(core, "rb") as f, open(p, "wb") as g:
        g.write(f.read(20000))
    refused(t, "a core cut before the runtime's globals", ["why-blocked", exe, p],
            [p, "nothing left to analyse"])
    pexe, pcore = os.path.join(pie, "exe"), os.path.join(pie, "core")
    p = os.path.join(tmp, "pie99.core")
    dl.cut(pcore, p, 0.99)
    rc, a1, _ = run_j(["goroutines", pexe, pcore])
    rc2, a2, err = run_j(["goroutines", pexe, p])
    t.check(rc == 0 and rc2 == 0 and sorted(by_id(a1)) == sorted(by_id(a2)),
            "a PIE core cut at 99 %%: the load address found from memory, every goroutine "
            "there (exit %d, %r)" % (rc2, err[:200]))


def patched_exe_path(core, dst, new_path):
    """A copy of core whose NT_FILE records new_path (same length) for the executable."""
    dl.copy(core, dst)
    rc, j, _ = run_j(["info", core])
    old = j["executable"].encode()
    new = new_path.encode()
    assert len(old) == len(new), (old, new)
    note = dl.note_segment(core)
    with open(dst, "r+b") as f:
        f.seek(note[2])
        data = f.read(note[5])
        f.seek(note[2])
        f.write(data.replace(old + b"\0", new + b"\0"))


def special_files(t, a, tmp):
    exe, core = os.path.join(a, "exe"), os.path.join(a, "core")
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    refused(t, "FIFO as EXE", ["info", fifo, core], [fifo], timeout=20)
    refused(t, "FIFO as CORE", ["info", exe, fifo], [fifo], timeout=20)
    refused(t, "FIFO as --peer", ["why-blocked", exe, core, "--peer", fifo], [fifo], timeout=20)
    refused(t, "FIFO as --peer EXE2", ["why-blocked", "--peer", fifo, core, exe, core], [fifo],
            timeout=20)
    rc, j, _ = run_j(["info", core])
    n = len(j["executable"]) if rc == 0 else 0
    fdir = tempfile.mkdtemp(prefix="f", dir=tmp)
    ff = fdir + "/" + "x" * (n - len(fdir) - 1)
    if t.check(rc == 0 and n > len(fdir) + 1, "room for a FIFO path as long as the recorded one"):
        os.mkfifo(ff)
        p = os.path.join(tmp, "fifo-exe.core")
        patched_exe_path(core, p, ff)
        refused(t, "FIFO as the core's recorded executable", ["info", p], [ff], timeout=20)
    rc, out, err = run(["why-blocked", exe, core], timeout=60)
    with open("/dev/full", "w") as full:
        p = subprocess.run([GRPCSCOPE, "why-blocked", exe, core], stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=60)
    t.check(p.returncode == 1 and "cannot write" in p.stderr,
            "output to /dev/full: exit %d, %r" % (p.returncode, p.stderr.strip()))
    with open("/dev/full", "w") as full:
        p = subprocess.run([GRPCSCOPE, "goroutines", "--json", exe, core], stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=60)
    t.check(p.returncode == 1 and "cannot write" in p.stderr,
            "JSON to /dev/full: exit %d" % p.returncode)


def escapes(t, a, tmp):
    """The core records an executable path with an escape sequence and a newline."""
    exe, core = os.path.join(a, "exe"), os.path.join(a, "core")
    rc, j, _ = run_j(["info", core])
    n = len(j["executable"]) if rc == 0 else 0
    edir = tempfile.mkdtemp(prefix="e", dir=tmp)
    head = edir + "/\x1b[31m\nred"
    if not t.check(rc == 0 and n > len(head) + 1, "room for an escape in the recorded path"):
        return
    bad = head + "x" * (n - len(head))
    shutil.copyfile(exe, bad)
    p = os.path.join(tmp, "esc.core")
    patched_exe_path(core, p, bad)
    for cmd in ("info", "goroutines", "why-blocked", "streams"):
        rc, out, err = run([cmd, p])
        t.check(rc == 0 and "\x1b" not in out + err and not any(
            c in out for c in "\r\x07") and "\\x1b" in (out + err if cmd == "info" else "\\x1b"),
            "%s: no control character reaches the terminal (exit %d)" % (cmd, rc))
    rc, out, err = run(["info", p])
    t.check("\\x1b[31m\\nred" in out, "the path is shown escaped, newline included")
    rc, out, err = run(["info", "--json", p])
    try:
        ok = json.loads(out)["executable"] == bad
    except ValueError:
        ok = False
    t.check(rc == 0 and ok, "JSON carries the path exactly, as valid JSON")
    os.unlink(bad)
    rc, out, err = run(["info", p])
    t.check(rc == 2 and "\x1b" not in err and "\\x1b" in err and len(err.strip().splitlines()) == 1,
            "a missing recorded executable is named escaped (%r)" % err.strip()[:200])


def arguments(t, a, tmp):
    exe, core = os.path.join(a, "exe"), os.path.join(a, "core")
    rc, wj, _ = run_j(["why-blocked", exe, core])
    gid = str(wj["verdicts"][0]["goroutine"]) if rc == 0 and wj["verdicts"] else "1"
    rc, out, err = run(["why-blocked", "--all", exe, core, gid])  # one block a verdict
    t.check(rc == 0 and "goroutine %s:" % gid in out, "why-blocked EXE CORE %s (exit %d, %r)"
            % (gid, rc, err.strip()[:200]))
    rc, out, err = run(["why-blocked", exe, core, "999999"])
    t.check(rc == 2 and "No such file" not in err and "999999" in err,
            "why-blocked EXE CORE 999999 names the goroutine, not a file (%r)" % err.strip()[:200])
    refused(t, "info /typo/exe CORE", ["info", "/typo/exe", core], ["/typo/exe"])
    refused(t, "info EXE /typo/core", ["info", exe, "/typo/core"], ["/typo/core"])
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        time.sleep(0.2)
        t0 = time.time()
        rc, out, err = run(["goroutines", "--bogus", "--pid", str(sleeper.pid)])
        t.check(rc == 2 and "--bogus" in err and time.time() - t0 < 10,
                "a usage error with --pid is reported before the process is touched (%r)"
                % err.strip()[:200])
        refused(t, "--pid with a --peer file that is missing",
                ["why-blocked", "--pid", str(sleeper.pid), "--peer", "/typo/peer.core"],
                ["/typo/peer.core"])
        refused(t, "why-blocked with a stray word and --pid",
                ["why-blocked", "frob", "nicate", "--pid", str(sleeper.pid)], ["nicate"])
    finally:
        sleeper.kill()
        sleeper.wait()


def untraceable(t):
    """Live targets that cannot be read say why."""
    rc, out, err = run(["goroutines", "--pid", "2"])
    t.check(rc == 2 and "kernel thread" in err, "pid 2: %r" % err.strip())
    z = subprocess.Popen(["sleep", "0"])
    time.sleep(0.3)  # exited, not reaped
    rc, out, err = run(["goroutines", "--pid", str(z.pid)])
    z.wait()
    t.check(rc == 2 and "zombie" in err, "a zombie: %r" % err.strip())


def traced(t):
    """A Go process another tracer holds: the message names that tracer. (A Go program:
    the executable is read before the process is seized, so a non-Go one is refused as
    such first.)"""
    exe = os.path.join(OUT, "go127-grpc181", "handler-blocked", "exe")
    if not os.path.exists(exe):
        t.fail("a target under strace: no fixture executable %s" % exe)
        return
    tracee = subprocess.Popen([exe], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tracer = subprocess.Popen(["strace", "-p", str(tracee.pid), "-o", "/dev/null"],
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            with open("/proc/%d/status" % tracee.pid) as f:
                if "TracerPid:\t%d\n" % tracer.pid in f.read():
                    break
            time.sleep(0.05)
        rc, out, err = run(["goroutines", "--pid", str(tracee.pid)])
        t.check(rc == 2 and "traced by pid %d" % tracer.pid in err and "strace" in err,
                "a target under strace: %r" % err.strip()[:200])
    finally:
        tracer.kill()
        tracer.wait()
        tracee.kill()
        tracee.wait()


def main():
    t = Tally("damage")
    snaps = snapshots()
    pair, other_pair = choose(snaps)
    if not t.check(pair is not None, "snapshots for the damage tests exist (peer-silent, "
                   "handler-blocked, handler-blocked-pie of one pair, peer-silent of another)"):
        t.finish()
    a = pick(snaps, "peer-silent", pair)
    c = pick(snaps, "handler-blocked", pair)
    pie = pick(snaps, "handler-blocked-pie", pair)
    other = pick(snaps, "peer-silent", other_pair)
    exe, core = os.path.join(a, "exe"), os.path.join(a, "core")
    rc, intact, err = run_j(["goroutines", exe, core])
    if not t.check(rc == 0 and intact["goroutines"], "the intact core lists goroutines"):
        t.finish()
    tmp = tempfile.mkdtemp(prefix="gs-damage-")
    try:
        wrong_executables(t, a, None, c, pie, other, tmp)
        over_gs(t, a, tmp, intact)
        over_allgs(t, a, tmp, intact)
        over_transport(t, a, tmp)
        over_stream(t, a, tmp)
        over_notes(t, a, tmp)
        truncated(t, a, pie, tmp, intact)
        special_files(t, a, tmp)
        escapes(t, a, tmp)
        arguments(t, a, tmp)
        untraceable(t)
        traced(t)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t.finish()


if __name__ == "__main__":
    main()
