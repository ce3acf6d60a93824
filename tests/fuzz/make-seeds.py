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
