#!/usr/bin/env python3
"""Bad input beyond test_bad_input.py (issue 7): a core truncated in the middle of a segment
(analysis proceeds over what is left), pids that cannot be traced (a kernel thread, a
zombie), files that are not regular files (a directory, a FIFO — chmod does not stop root),
and --timeout: the whole run is bounded, exit 1 with one line, and a live process it had
paused is running again afterwards."""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import GRPCSCOPE, Tally, run, snapshots  # noqa: E402
from test_live import start, threads_running  # noqa: E402


def pick(snaps, scen, pair):
    for p, s, d in snaps:
        if s == scen and p == pair and not os.path.exists(os.path.join(d, "FAILED")):
            return d
    return None


def expect_bad(t, what, args, must_name, rc_want=2):
    rc, out, err = run(args, timeout=60)
    lines = err.strip().splitlines()
    t.check(rc == rc_want and out == "" and len(lines) == 1 and must_name in lines[0],
            "%s -> exit %d, stdout %d bytes, stderr %r" % (what, rc, len(out), err.strip()[:300]))


def phdrs(core):
    with open(core, "rb") as f:
        h = f.read(64)
        phoff, = struct.unpack_from("<Q", h, 32)
        phentsize, phnum = struct.unpack_from("<HH", h, 54)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    segs = [struct.unpack_from("<IIQQQQQ", ph, i * phentsize) + (i,) for i in range(phnum)]
    return phoff, phentsize, segs


def truncated_mid_segment(core, dst, vaddr):
    """A copy of core cut in the middle of the PT_LOAD that holds vaddr, its notes (which
    gcore writes at the end) moved to the new end so that the file stays a valid core."""
    subprocess.run(["cp", "--sparse=always", core, dst], check=True)
    phoff, phentsize, segs = phdrs(core)
    note = [s for s in segs if s[0] == 4][0]
    seg = [s for s in segs if s[0] == 1 and s[3] <= vaddr < s[3] + s[5] and s[5] > 0][0]
    cut = seg[2] + ((vaddr - seg[3]) & ~4095)  # the page that holds vaddr is gone
    with open(core, "rb") as f:
        f.seek(note[2])
        notes = f.read(note[5])
    with open(dst, "r+b") as g:
        g.truncate(cut)
        g.seek(cut)
        g.write(notes)
        g.seek(phoff + note[7] * phentsize + 8)
        g.write(struct.pack("<Q", cut))
    return seg


def absurd_allgs(core, exe, dst):
    """A copy of core whose runtime.allgs claims 2^40 goroutines: the session fails after
    the runtime layout is known, when the heap scan for transports is already running."""
    subprocess.run(["cp", "--sparse=always", core, dst], check=True)
    nm = subprocess.run(["nm", exe], capture_output=True, text=True, check=True).stdout
    addr = [int(l.split()[0], 16) for l in nm.splitlines() if l.endswith(" runtime.allgs")][0]
    _, _, segs = phdrs(core)
    seg = [s for s in segs if s[0] == 1 and s[3] <= addr < s[3] + s[5]][0]
    with open(dst, "r+b") as g:
        g.seek(seg[2] + (addr - seg[3]) + 8)  # the slice's len
        g.write(struct.pack("<Q", 1 << 40))


def main():
    t = Tally("hostile-input")
    snaps = snapshots()
    a = pick(snaps, "peer-silent", "go127-grpc181")
    if not t.check(a is not None, "peer-silent snapshot of go127-grpc181 exists"):
        t.finish()
    exe, core = os.path.join(a, "exe"), os.path.join(a, "core")
    tmp = tempfile.mkdtemp(prefix="gs-hostile-")
    try:
        # Truncated in the middle of a segment: cut where the first transport lives. The
        # analysis proceeds over what is left: every goroutine is either listed or named as
        # unreadable (where the cut falls relative to runtime.allgs depends on the build's
        # heap layout); the transport in the missing part is not invented.
        rc, out, err = run(["streams", "--json", exe, core])
        import json
        full = json.loads(out)
        taddr = int(full["transports"][0]["address"], 16) if full.get("transports") else None
        rc, out, err = run(["goroutines", "--json", exe, core])
        pristine = len(json.loads(out)["goroutines"]) if rc == 0 else -1
        if t.check(taddr is not None and pristine > 0, "the pristine snapshot has a transport and goroutines"):
            p = os.path.join(tmp, "mid-segment.core")
            truncated_mid_segment(core, p, taddr)
            t0 = time.time()
            rc, out, err = run(["goroutines", "--json", exe, p])
            j = json.loads(out) if rc == 0 else {}
            listed = len(j.get("goroutines", []))
            lost = j.get("unreadable", {}).get("count", 0)
            t.check(rc == 0 and time.time() - t0 < 60 and listed <= pristine and
                    (listed == pristine or lost > 0) and listed + lost >= pristine,
                    "core cut mid-segment: %d of %d goroutines listed, %d named unreadable (exit %d, %s)"
                    % (listed, pristine, lost, rc, err.strip()[:200]))
            rc, out, err = run(["info", "--json", exe, p])
            miss = json.loads(out).get("missing_bytes", 0) if rc == 0 else 0
            t.check(miss > 0, "core cut mid-segment: info reports %d missing bytes" % miss)
            rc, out, err = run(["why-blocked", exe, p])
            t.check(rc == 0 and err.startswith("warning: ") and "truncated" in err.splitlines()[0],
                    "core cut mid-segment: a truncation warning on stderr (%r)"
                    % err.splitlines()[:1])
            rc, out, err = run(["info", "--json", exe, core])
            t.check(rc == 0 and json.loads(out).get("missing_bytes") == 0,
                    "the pristine core has no missing bytes")
            for cmd in ("streams", "why-blocked"):
                rc, out, err = run([cmd, "--json", exe, p])
                j = json.loads(out) if rc == 0 else {}
                addrs = [x.get("address") for x in j.get("transports", [])]
                t.check(rc == 0 and hex(taddr) not in addrs,
                        "core cut mid-segment: %s exits 0 without the lost transport (exit %d, %s)"
                        % (cmd, rc, err.strip()[:200]))
        # Pids that cannot be traced: a kernel thread, a zombie.
        expect_bad(t, "kernel thread (pid 2)", ["goroutines", "--pid", "2"], "pid 2")
        z = subprocess.Popen(["sleep", "0"])
        time.sleep(0.3)  # exited, not reaped: a zombie
        expect_bad(t, "zombie process", ["goroutines", "--pid", str(z.pid)], "pid %d" % z.pid)
        z.wait()
        # Not regular files.
        d = os.path.join(tmp, "dir.core")
        os.mkdir(d)
        expect_bad(t, "directory given as core", ["goroutines", exe, d], d)
        fifo = os.path.join(tmp, "fifo.core")
        os.mkfifo(fifo)
        expect_bad(t, "FIFO given as core", ["goroutines", exe, fifo], fifo)
        # A core that fails late: the commands that start the heap scan early stop it.
        bad = os.path.join(tmp, "allgs.core")
        absurd_allgs(core, exe, bad)
        for cmd in ("goroutines", "streams", "why-blocked"):
            expect_bad(t, "allgs of absurd length, %s" % cmd, [cmd, exe, bad], "absurd length")
        # --timeout: bad values, then a run that cannot finish in time.
        expect_bad(t, "--timeout without a number", ["goroutines", "--timeout", "soon", exe, core], "--timeout")
        expect_bad(t, "--timeout 0", ["goroutines", "--timeout", "0", exe, core], "--timeout")
        expect_bad(t, "--timeout expiring on a core", ["why-blocked", "--timeout", "0.01", exe, core],
                   "timed out", rc_want=1)
        rc, out, err = run(["goroutines", "--timeout", "600", exe, core])
        t.check(rc == 0 and "goroutines shown" in out, "a generous --timeout changes nothing (exit %d)" % rc)
        # --timeout on a live process: exits 1, and the process runs on (the kernel detaches
        # the tracees of a tracer that exits).
        p, _ = start(exe)
        try:
            q = subprocess.run([GRPCSCOPE, "why-blocked", "--timeout", "0.05", "--pid", str(p.pid)],
                               capture_output=True, text=True, timeout=60)
            timed_out = q.returncode == 1 and "timed out" in q.stderr
            if not timed_out:  # finished within 50 ms: still must have resumed it
                t.check(q.returncode == 0, "live run under --timeout 0.05: exit %d %s"
                        % (q.returncode, q.stderr.strip()[:200]))
            time.sleep(0.2)
            t.check(p.poll() is None and threads_running(p.pid),
                    "live process runs on after --timeout (%s)" % ("timed out" if timed_out else "finished"))
        finally:
            p.kill()
            p.wait()
    finally:
        shutil.rmtree(tmp)
    t.finish()


if __name__ == "__main__":
    main()
