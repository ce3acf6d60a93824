#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, made from the fixtures and the unit-test Go binaries:
usage: make-seeds.py OUTDIR. Small on purpose: cores are cut down to their headers and
notes (the notes moved next to the program headers), executables are the small ones."""
import os
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.environ.get("GS_FIXTURES", os.path.join(ROOT, "fixtures", "out"))
GOBINS = os.environ.get("GS_TEST_GOBINS", os.path.join(ROOT, "build", "gobins"))


def put(outdir, target, name, data):
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def small_core(core):
    """ELF header + program headers + the notes, with PT_NOTE moved right after the
    headers; PT_LOAD contents are left out (their offsets now point past the end)."""
    with open(core, "rb") as f:
        eh = bytearray(f.read(64))
        phoff, = struct.unpack_from("<Q", eh, 32)
        phentsize, phnum = struct.unpack_from("<HH", eh, 54)
        f.seek(phoff)
        ph = bytearray(f.read(phentsize * phnum))
        notes = b""
        new_off = 64 + len(ph)
        for i in range(phnum):
            o = i * phentsize
            if struct.unpack_from("<I", ph, o)[0] == 4:
                off, = struct.unpack_from("<Q", ph, o + 8)
                sz, = struct.unpack_from("<Q", ph, o + 32)
                f.seek(off)
                notes = f.read(min(sz, 1 << 20))
                struct.pack_into("<Q", ph, o + 8, new_off)
        struct.pack_into("<Q", eh, 32, 64)
        return bytes(eh) + bytes(ph) + notes


def compressed(data):
    """data compressed by each format a core may come in (target/core_decompress.c)."""
    import gzip
    import lzma
    yield "gz", gzip.compress(data, mtime=0)
    yield "xz", lzma.compress(data)
    for tool in ("zstd", "lz4"):
        r = subprocess.run([tool, "-q", "-c"], input=data, capture_output=True)
        if r.returncode == 0:
            yield tool, r.stdout


def section(exe, name):
    with tempfile.NamedTemporaryFile() as t:
        r = subprocess.run(["objcopy", "-O", "binary", "--only-section=" + name, exe, t.name],
                           capture_output=True)
        if r.returncode != 0:
            return None
        return open(t.name, "rb").read() or None


def sections(exe):
    """{name: (addr, offset, size)} from readelf's section table."""
    r = subprocess.run(["readelf", "-SW", exe], capture_output=True, text=True)
    res = {}
    for line in r.stdout.splitlines():
        f = line.replace("[ ", "[").split()
        if len(f) > 6 and f[0].startswith("[") and f[1].startswith("."):
            res[f[1]] = (int(f[3], 16), int(f[4], 16), int(f[5], 16))
    return res


# moduledata offsets of (types, etypes, typelinks) / (types, typedesclen, etypes, itaboffset,
# itabsize) by Go minor version, as binary/typedesc.c reads them.
MD = {19: (280, 288, 336), 26: (296, 304, 360)}


def typedesc_seed(exe, minor):
    """fuzz_typedesc input from a real binary: its types region at its own address (so the
    absolute pointers inside stay valid) with up to 255 of its typelinks."""
    secs = sections(exe)
    pcln = secs.get(".gopclntab") or secs.get(".data.rel.ro.gopclntab")
    data = open(exe, "rb").read()
    if not pcln:
        return None
    for name in (".go.module", ".noptrdata"):
        if name not in secs:
            continue
        addr, off, size = secs[name]
        blob = data[off:off + size]
        i = blob.find(struct.pack("<Q", pcln[0]))
        while i >= 0 and i % 8:
            i = blob.find(struct.pack("<Q", pcln[0]), i + 1)
        if i < 0:
            continue
        md = blob[i:i + 600]
        def w(o):
            return struct.unpack_from("<Q", md, o)[0]
        def at(a, n):
            for sa, so, ss in secs.values():
                if sa <= a and a + n <= sa + ss and so:
                    return data[so + a - sa:so + a - sa + n]
            return b""
        if minor >= 27:
            types, tdl, etypes, itoff, itsz = w(296), w(304), w(312), w(320), w(328)
            links = b""
        else:
            o = MD[19] if minor == 19 else MD[26] if minor == 26 else (296, 304, 352)
            types, etypes = w(o[0]), w(o[1])
            tl, ntl = w(o[2]), w(o[2] + 8)
            links = at(tl, 4 * min(ntl, 255))
            tdl = itoff = itsz = 0
        region = at(types, min(etypes - types, 1 << 18))
        return (struct.pack("<QBB", types, minor - 19, len(links) // 4) + links +
                struct.pack("<QQQ", tdl, itoff, itsz) + region)
    return None


def wait_reason_seed():
    """A .data section at 0x600000 holding the waitReasonStrings signature."""
    base = 0x600000
    strs = b"GC assist markingIO wait"
    hdrs = struct.pack("<QQQQQQ", 0, 0, base + 48, 17, base + 48 + 17, 7)
    return hdrs + strs


def main():
    out = sys.argv[1]
    pairs = sorted(p for p in os.listdir(FIX)) if os.path.isdir(FIX) else []
    for p in pairs:
        core = os.path.join(FIX, p, "peer-silent", "core")
        if os.path.exists(core):
            put(out, "fuzz_core", p + "-notes", small_core(core))
            for fmt, data in compressed(small_core(core)):
                put(out, "fuzz_core", "%s-notes.%s" % (p, fmt), data)
    gobins = sorted(f for f in os.listdir(GOBINS) if not f.endswith(("version", "build-id"))) if os.path.isdir(GOBINS) else []
    for g in gobins:
        exe = os.path.join(GOBINS, g)
        pcln = section(exe, ".gopclntab")
        if pcln:
            put(out, "fuzz_pclntab", g, pcln)
        bi = section(exe, ".go.buildinfo")
        if bi:
            put(out, "fuzz_buildinfo", g + "-section", b"\x00" + bi)
            i = bi.find(b"path\t")
            if i >= 0:
                put(out, "fuzz_buildinfo", g + "-modinfo", b"\x01" + bi[i:i + 4096])
        if g.endswith("-stripped"):
            put(out, "fuzz_elf", g, open(exe, "rb").read())
        vfile = exe + ".version"
        if os.path.exists(vfile) and not g.endswith("-pie"):
            v = open(vfile).read().strip()
            try:
                minor = int(v.split(".")[1])
            except (IndexError, ValueError):
                continue
            seed = typedesc_seed(exe, minor)
            if seed:
                put(out, "fuzz_typedesc", g, seed)
    put(out, "fuzz_goglobals", "wait-reasons", wait_reason_seed())
    # command lines: mode byte, then NUL-separated words
    for i, line in enumerate((
            [1, "why-blocked", "--json", "EXE", "CORE", "--peer", "E2", "C2", "26"],
            [1, "diff", "EXE", "C1", "C2"], [1, "goroutines", "--status=waiting", "--", "-x"],
            [2, "stream-state", "0xc000123000:3"], [0, "goroutines", "--id", "3", "--reason", "r"],
            [1, "help", "why-blocked"], [1, "report", "-o", "r.html", "CORE"])):
        put(out, "fuzz_cmdline", "line%d" % i,
            bytes([line[0]]) + b"\0".join(w.encode() for w in line[1:]))
    for b in ("/bin/true", "/usr/lib/x86_64-linux-gnu/libz.so.1"):
        if os.path.exists(b):
            put(out, "fuzz_elf", os.path.basename(b), open(os.path.realpath(b), "rb").read())
    # runtime: patch records over the two default snapshots
    for snap in (0, 1):
        put(out, "fuzz_runtime", "plain%d" % snap, bytes([snap]))
        for op in range(4):
            put(out, "fuzz_runtime", "op%d-%d" % (op, snap),
                bytes([snap, op, 3, 8, 0, 8]) + b"\xff" * 8 + bytes([op, 7, 16, 0, 2, 1, 0]))


if __name__ == "__main__":
    main()
