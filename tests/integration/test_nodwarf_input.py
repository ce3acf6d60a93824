#!/usr/bin/env python3
"""Executables without DWARF or symbols under damage (issue 12, "Bad input"): a runtime
global found from code but not confirmed by the snapshot is left out with a warning that
says what it costs; a required one (allgs) that fails validation is exit 2 naming it; a
binary whose moduledata is damaged is exit 2 naming the file. Real fixture snapshots, read
with a copy of their executable stripped by objcopy --strip-all."""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import OUT, run, Tally  # noqa: E402
import damage_lib  # noqa: E402


def globals_of(exe, core):
    """{name: address} of the runtime globals `selfcheck` lists."""
    rc, out, err = run(["selfcheck", exe, core])
    res = {}
    for line in out.splitlines():
        m = re.match(r"\s+(runtime\.\S+)\s+0x([0-9a-f]+)\s+ok\s+(\S+)", line)
        if m:
            res[m.group(1)] = (int(m.group(2), 16), m.group(3))
    return res


def moduledata_offset(exe):
    """File offset of moduledata: the 8-aligned word in .noptrdata/.go.module that holds the
    pclntab's address."""
    out = subprocess.run(["readelf", "-SW", exe], capture_output=True, text=True).stdout
    secs = {}
    for line in out.splitlines():
        f = line.replace("[ ", "[").split()
        if len(f) > 6 and f[0].startswith("[") and f[1].startswith("."):
            secs[f[1]] = (int(f[3], 16), int(f[4], 16), int(f[5], 16))
    pc = (secs.get(".gopclntab") or secs.get(".data.rel.ro.gopclntab"))[0]
    data = open(exe, "rb").read()
    for name in (".go.module", ".noptrdata"):
        if name in secs:
            _, off, size = secs[name]
            i = data.find(struct.pack("<Q", pc), off, off + size)
            while i >= 0 and i % 8:
                i = data.find(struct.pack("<Q", pc), i + 1, off + size)
            if i >= 0:
                return i
    return None


def main():
    t = Tally("nodwarf-input")
    pairs = sorted(p for p in os.listdir(OUT)) if os.path.isdir(OUT) else []
    snaps = [os.path.join(OUT, p, "peer-silent") for p in pairs
             if os.path.exists(os.path.join(OUT, p, "peer-silent", "core"))]
    if not t.check(len(snaps) > 0, "peer-silent snapshots under %s" % OUT):
        t.finish()
    tmp = tempfile.mkdtemp(prefix="gs-nodwarf-")
    try:
        for d in snaps:
            name = os.path.basename(os.path.dirname(d))
            exe = os.path.join(tmp, name + "-stripped")
            subprocess.run(["objcopy", "--strip-all", os.path.join(d, "exe"), exe], check=True)
            core = os.path.join(d, "core")
            g = globals_of(exe, core)
            t.check(all(src == "code" for _, src in g.values()) and len(g) >= 9,
                    "%s: every runtime global found from code (%s)" % (name, sorted(g)))
            # persistentChunks' head cleared: the candidate fails validation, fd waits go.
            if "runtime.persistentChunks" in g:
                c = os.path.join(tmp, name + "-nochunks")
                damage_lib.copy(core, c)
                damage_lib.write(c, g["runtime.persistentChunks"][0], b"\0" * 8)
                rc, out, err = run(["goroutines", "--json", exe, c])
                ok = rc == 0
                w = json.loads(out)["warnings"] if ok else []
                t.check(ok and any("persistentChunks" in x and "file-descriptor" in x for x in w),
                        "%s: an unconfirmed persistentChunks is a warning (exit %d, %s)"
                        % (name, rc, w or err.strip()))
                t.check(ok and not any(x["kind"] == "netpoll" for gr in json.loads(out)["goroutines"]
                                       for x in gr.get("waiting_on", [])),
                        "%s: and no fd wait is shown" % name)
                os.unlink(c)
            # allgs' slice header scribbled: no plausible candidate, exit 2 naming it.
            if "runtime.allgs" in g:
                c = os.path.join(tmp, name + "-noallgs")
                damage_lib.copy(core, c)
                damage_lib.write(c, g["runtime.allgs"][0], struct.pack("<QQQ", 8, 1 << 40, 3))
                rc, out, err = run(["goroutines", exe, c])
                t.check(rc == 2 and "runtime.allgs" in err and err.count("\n") == 1,
                        "%s: an implausible allgs is exit 2 naming it (exit %d: %s)"
                        % (name, rc, err.strip()))
                os.unlink(c)
            # moduledata's type region scribbled in the executable: exit 2 naming the file.
            off = moduledata_offset(exe)
            if t.check(off is not None, "%s: moduledata found in the stripped file" % name):
                bad = os.path.join(tmp, name + "-badmd")
                shutil.copy(exe, bad)
                with open(bad, "r+b") as f:
                    f.seek(off + 280)
                    f.write(b"\xff" * 64)
                rc, out, err = run(["goroutines", bad, core])
                t.check(rc == 2 and bad in err and err.count("\n") == 1 and not out,
                        "%s: damaged moduledata is exit 2 naming the file (exit %d: %s)"
                        % (name, rc, err.strip()))
    finally:
        shutil.rmtree(tmp)
    t.finish()


if __name__ == "__main__":
    main()
