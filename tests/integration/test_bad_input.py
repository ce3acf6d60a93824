#!/usr/bin/env python3
"""Bad input gets one line on stderr naming the file and the problem, exit status 2, and
nothing on stdout: truncated or corrupt cores, wrong executables, non-Go and DWARF-less
binaries, missing files, gone pids. Damaged notes with the executable given are analysed
with a warning instead (test_damage.py has the rest of the damage cases)."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import Tally, run, snapshots  # noqa: E402


def pick(snaps, scen, pair=None):
    for p, s, d in snaps:
        if s == scen and (pair is None or p == pair) and not os.path.exists(os.path.join(d, "FAILED")):
            return d
    return None


def expect_bad(t, what, args, must_name):
    rc, out, err = run(args, timeout=60)
    lines = err.strip().splitlines()
    t.check(rc == 2 and out == "" and len(lines) == 1 and must_name in lines[0],
            "%s -> exit %d, stdout %d bytes, stderr %r" % (what, rc, len(out), err.strip()[:300]))


def expect_warned(t, what, args, must_say):
    """Analysed (exit 0), with the damage said in a warning on stderr."""
    rc, out, err = run(args, timeout=60)
    t.check(rc == 0 and out and "warning: " in err and must_say in err,
            "%s -> exit %d, stderr %r" % (what, rc, err.strip()[:300]))


def copy_prefix(src, dst, n):
    with open(src, "rb") as f, open(dst, "wb") as g:
        g.write(f.read(n))


def main():
    t = Tally("bad-input")
    snaps = snapshots()
    a = pick(snaps, "peer-silent", "go127-grpc181")
    b = pick(snaps, "peer-silent", "go119-grpc133")
    if not t.check(a is not None and b is not None, "snapshots for the bad-input tests exist"):
        t.finish()
    exe, core = os.path.join(a, "exe"), os.path.join(a, "core")
    tmp = tempfile.mkdtemp(prefix="gs-bad-")
    try:
        # Missing files.
        expect_bad(t, "missing core", ["goroutines", exe, os.path.join(tmp, "nope.core")], "nope.core")
        expect_bad(t, "missing executable", ["goroutines", os.path.join(tmp, "nope.exe"), core], "nope.exe")
        # Truncated cores: inside the ELF header, inside the program headers/notes.
        for n, label in ((10, "at the ELF header"), (200, "in the program headers")):
            p = os.path.join(tmp, "trunc%d.core" % n)
            copy_prefix(core, p, n)
            expect_bad(t, "core truncated %s" % label, ["goroutines", exe, p], p)
        # Truncated in the notes (gcore writes them last) or garbage notes: analysed as far
        # as it goes with the executable given, with a warning naming the problem; without
        # it, refused naming the core (issue 14).
        notes_off = note_offset(core)
        p = os.path.join(tmp, "trunc-notes.core")
        copy_prefix(core, p, notes_off + 64)
        expect_warned(t, "core truncated in the notes", ["goroutines", exe, p], "notes are cut off")
        expect_bad(t, "core truncated in the notes, no EXE", ["goroutines", p], p)
        p = os.path.join(tmp, "garbage-notes.core")
        shutil.copyfile(core, p)
        with open(p, "r+b") as f:
            f.seek(notes_off)
            f.write(os.urandom(4096))
        expect_warned(t, "core with garbage notes", ["goroutines", exe, p], "corrupt core notes")
        # A non-core ELF given as the core.
        expect_bad(t, "executable given as core", ["goroutines", exe, exe], exe)
        # The executable of another build (another Go version's build of the same scenario).
        expect_bad(t, "executable of another build", ["goroutines", os.path.join(b, "exe"), core],
                   "is not the executable of " + core)
        # A non-Go executable.
        expect_bad(t, "non-Go executable", ["goroutines", "/bin/true", core], "/bin/true")
        # An executable without DWARF (same build id, debug info stripped) is not bad input:
        # it is the production case, read through the runtime's type descriptors (issue 12).
        nodw = os.path.join(tmp, "exe-nodwarf")
        subprocess.run(["objcopy", "--strip-debug", exe, nodw], check=True)
        rc1, out1, err1 = run(["goroutines", exe, core])
        rc2, out2, err2 = run(["goroutines", nodw, core])
        t.check(rc2 == 0 and out2 == out1,
                "executable without DWARF: same goroutines as with it (exit %d: %s)" % (rc2, err2.strip()))
        # A pid that does not exist.
        expect_bad(t, "pid that does not exist", ["goroutines", "--pid", "999999999"], "999999999")
        # The CLI's own usage errors.
        expect_bad(t, "unknown command", ["frobnicate", exe, core], "frobnicate")
    finally:
        shutil.rmtree(tmp)
    t.finish()


def note_offset(core):
    """File offset of the PT_NOTE segment of an ELF64 core."""
    import struct
    with open(core, "rb") as f:
        h = f.read(64)
        phoff, = struct.unpack_from("<Q", h, 32)
        phentsize, phnum = struct.unpack_from("<HH", h, 54)
        f.seek(phoff)
        for _ in range(phnum):
            ph = f.read(phentsize)
            ptype, = struct.unpack_from("<I", ph, 0)
            if ptype == 4:
                return struct.unpack_from("<Q", ph, 8)[0]
    raise RuntimeError("no PT_NOTE in " + core)


if __name__ == "__main__":
    main()
