"""Making damaged copies of fixture snapshots (issue 14): cores cut short, random bytes over
runtime structures, patched notes. Copies are sparse (cores are ~1.5 GB apparent, ~10 MB
real) and live in the caller's temporary directory."""
import os
import random
import struct
import subprocess


def phdrs(core):
    """(phoff, phentsize, [(type, flags, offset, vaddr, paddr, filesz, memsz, index)])"""
    with open(core, "rb") as f:
        h = f.read(64)
        phoff, = struct.unpack_from("<Q", h, 32)
        phentsize, phnum = struct.unpack_from("<HH", h, 54)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    segs = [struct.unpack_from("<IIQQQQQ", ph, i * phentsize) + (i,) for i in range(phnum)]
    return phoff, phentsize, segs


def file_offset(core, vaddr):
    """Where the byte at vaddr lies in the core file, or None when it was not dumped."""
    for s in phdrs(core)[2]:
        if s[0] == 1 and s[3] <= vaddr < s[3] + s[5]:
            return s[2] + (vaddr - s[3])
    return None


def note_segment(core):
    return [s for s in phdrs(core)[2] if s[0] == 4][0]


def copy(core, dst):
    subprocess.run(["cp", "--sparse=always", core, dst], check=True)
    return dst


def read(core, vaddr, n):
    off = file_offset(core, vaddr)
    if off is None:
        raise RuntimeError("0x%x not in %s" % (vaddr, core))
    with open(core, "rb") as f:
        f.seek(off)
        return f.read(n)


def write(core, vaddr, data):
    off = file_offset(core, vaddr)
    if off is None:
        raise RuntimeError("0x%x not in %s" % (vaddr, core))
    with open(core, "r+b") as f:
        f.seek(off)
        f.write(data)


def symbol(exe, name):
    nm = subprocess.run(["nm", exe], capture_output=True, text=True, check=True).stdout
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise RuntimeError("%s: no symbol %s" % (exe, name))


def bias(core, exe):
    """The PIE load bias of exe in core (from grpcscope info), 0 for position-dependent."""
    import json
    from snapshots import run
    rc, out, err = run(["info", "--json", exe, core])
    return int(json.loads(out)["load_bias"], 16) if rc == 0 else 0


def allgs(core, exe):
    """(address of the allgs array, [g addresses])"""
    a = symbol(exe, "runtime.allgs") + bias(core, exe)
    arr, n, _ = struct.unpack("<QQQ", read(core, a, 24))
    ptrs = struct.unpack("<%dQ" % n, read(core, arr, 8 * n))
    return arr, list(ptrs)


def cut(core, dst, fraction):
    """A copy of core cut at fraction of its size (what a full disk leaves)."""
    copy(core, dst)
    size = os.path.getsize(core)
    with open(dst, "r+b") as f:
        f.truncate(int(size * fraction))
    return size - int(size * fraction)


def scribble(core, vaddr, n, seed):
    """n random bytes over core's copy of [vaddr, vaddr+n)."""
    rnd = random.Random(seed)
    write(core, vaddr, bytes(rnd.getrandbits(8) for _ in range(n)))
