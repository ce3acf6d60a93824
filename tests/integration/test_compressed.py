#!/usr/bin/env python3
"""Compressed cores (zstd, xz, gzip, lz4), as systemd-coredump and tickets hand them over:
compressed here with each format's own command-line tool, under a name that says nothing
(`core`), they give byte for byte the output of the uncompressed core for info, goroutines,
streams and why-blocked, text and JSON, in the `EXE CORE` and `CORE` forms and as a
`--peer` core. The decompressed copy is sparse (its disk use stays near the original core's)
and leaves nothing in $TMPDIR, even when the run is killed. With stderr a terminal, a slow
decompression shows a progress line there (otherwise stderr stays empty). A corrupt .zst and
a cut .xz give exit 2 and one stderr line naming the file (or, for the cut stream, the
truncated-core warning, when the part that arrived holds the core's headers).

Runs are bounded: zstd (systemd's format, and the fastest) on the peer-silent and
handler-blocked snapshots of every pair; xz, gzip and lz4 on one snapshot each."""
import os
import pty
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import GRPCSCOPE, Tally, snapshots  # noqa: E402

TOOLS = {"zstd": ["zstd", "-q", "-c"], "xz": ["xz", "-c", "-0", "-T1"],
         "gzip": ["gzip", "-c", "-1"], "lz4": ["lz4", "-q", "-c"]}
MAGIC = {"zstd": b"\x28\xb5\x2f\xfd", "xz": b"\xfd7zXZ\x00", "gzip": b"\x1f\x8b",
         "lz4": b"\x04\x22\x4d\x18"}
COMMANDS = [[c] + j for c in ("info", "goroutines", "streams", "why-blocked") for j in ([], ["--json"])]


def run(args, cwd, tmp, timeout=600):
    p = subprocess.run([GRPCSCOPE] + args, cwd=cwd, capture_output=True, timeout=timeout,
                       env=dict(os.environ, TMPDIR=tmp))
    return p.returncode, p.stdout, p.stderr


def compress(fmt, src, dst):
    """dst keeps src's times, as a core compressed where it was dumped does (systemd-coredump
    writes its .zst at the crash): the snapshot's time is the core file's."""
    with open(src, "rb") as f, open(dst, "wb") as g:
        subprocess.run(TOOLS[fmt], stdin=f, stdout=g, check=True)
    st = os.stat(src)
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))


def candidates():
    found = []
    for pair, scen, d in snapshots():
        if scen in ("peer-silent", "handler-blocked") and not os.path.exists(os.path.join(d, "FAILED")) \
                and all(os.path.exists(os.path.join(d, f)) for f in ("exe", "core")):
            found.append((pair, scen, d))
    return found


def same_output(t, what, args, ref_dir, got_dir, tmp):
    """args run in ref_dir (the uncompressed files) and in got_dir (the compressed ones,
    under the same names): the same status, stdout and stderr."""
    ref = run(args, ref_dir, tmp)
    got = run(args, got_dir, tmp)
    if not t.check(ref[0] == 0, "%s: the uncompressed core works (exit %d: %s)"
                   % (what, ref[0], ref[2].decode(errors="replace").strip()[:200])):
        return
    t.check(got == ref, "%s: exit %d, %d bytes of stdout, identical: %s%s"
            % (what, got[0], len(got[1]), got[1] == ref[1],
               "" if got[2] == ref[2] else "; stderr " + got[2].decode(errors="replace").strip()[:200]))


def watch_disk(t, what, args, cwd, tmp, core_blocks):
    """Runs args, looking at its temporary file while it lives: the most disk it used."""
    p = subprocess.Popen([GRPCSCOPE] + args, cwd=cwd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=dict(os.environ, TMPDIR=tmp))
    most_blocks = most_size = seen = 0
    while p.poll() is None:
        try:
            for fd in os.listdir("/proc/%d/fd" % p.pid):
                link = os.readlink("/proc/%d/fd/%s" % (p.pid, fd))
                if link.startswith(tmp + "/"):
                    st = os.stat("/proc/%d/fd/%s" % (p.pid, fd))
                    seen += 1
                    most_blocks, most_size = max(most_blocks, st.st_blocks), max(most_size, st.st_size)
        except OSError:
            pass  # the process ended between two looks
        time.sleep(0.005)
    t.check(p.returncode == 0 and seen > 0, "%s: the temporary file was seen %d times (exit %d)"
            % (what, seen, p.returncode))
    slack = 1024  # 512-byte blocks: 512 KiB of file-system overhead
    t.check(most_blocks <= core_blocks + slack,
            "%s: the decompressed copy of %d MB took %.1f MB of disk (the sparse core %.1f MB)"
            % (what, most_size >> 20, most_blocks * 512 / 1e6, core_blocks * 512 / 1e6))


def killed_run_leaves_nothing(t, what, args, cwd, tmp):
    p = subprocess.Popen([GRPCSCOPE] + args, cwd=cwd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=dict(os.environ, TMPDIR=tmp))
    seen = False
    deadline = time.time() + 60
    while not seen and p.poll() is None and time.time() < deadline:
        try:
            seen = any(os.readlink("/proc/%d/fd/%s" % (p.pid, fd)).startswith(tmp + "/")
                       for fd in os.listdir("/proc/%d/fd" % p.pid))
        except OSError:
            pass
        time.sleep(0.002)
    p.send_signal(signal.SIGKILL)
    p.wait()
    t.check(seen, "%s: killed while its temporary file was open" % what)
    t.check(os.listdir(tmp) == [], "%s: killed, and nothing is left in TMPDIR: %s" % (what, os.listdir(tmp)))


def progress_on_a_terminal(t, what, args, cwd, tmp):
    """With stderr a terminal, a run that decompresses for over a second shows a progress
    line there (and still prints only its answer on stdout)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([GRPCSCOPE] + args, cwd=cwd, stdout=subprocess.PIPE, stderr=slave,
                         env=dict(os.environ, TMPDIR=tmp))
    os.close(slave)
    got = []

    def drain():  # a full terminal buffer would stop the writer
        while True:
            try:
                b = os.read(master, 4096)
            except OSError:
                return
            if not b:
                return
            got.append(b)
    reader = threading.Thread(target=drain)
    reader.start()
    out = p.stdout.read()
    p.wait()
    reader.join(timeout=10)
    os.close(master)
    err = b"".join(got).decode(errors="replace")
    t.check(p.returncode == 0 and "decompressing core6 (xz):" in err and err.endswith("\n"),
            "%s: a progress line on the terminal (%d bytes of stdout), ending its line: %r"
            % (what, len(out), err[-160:]))


def one_line_error(t, what, res, name, words):
    rc, out, err = res
    lines = err.decode(errors="replace").strip().splitlines()
    t.check(rc == 2 and out == b"" and len(lines) == 1 and name in lines[0]
            and all(w in lines[0] for w in words),
            "%s -> exit %d, stdout %d bytes, stderr %r" % (what, rc, len(out), err.decode(errors="replace").strip()[:300]))


def main():
    t = Tally("compressed")
    cands = candidates()
    if not t.check(len(cands) > 0, "peer-silent or handler-blocked snapshots exist under the fixtures"):
        t.finish()
    for tool in ("zstd", "xz", "gzip", "lz4"):
        if not t.check(shutil.which(tool) is not None, "the %s tool is installed (scripts/deps.sh)" % tool):
            t.finish()
    plan = [(c, "zstd") for c in cands]
    # xz decodes slowest (a 1.6 GB core, mostly zeros, takes seconds): it gets the smallest
    # core, gzip and lz4 others, of other pairs where there are.
    by_size = sorted(cands, key=lambda c: os.path.getsize(os.path.join(c[2], "core")))
    for fmt, c in (("xz", by_size[0]), ("gzip", by_size[len(by_size) // 2]), ("lz4", by_size[-1])):
        plan.append((c, fmt))
    work = tempfile.mkdtemp(prefix="gs-compressed-")
    tmp = os.path.join(work, "tmp")  # TMPDIR of every run: must end empty
    os.mkdir(tmp)
    try:
        for (pair, scen, d), fmt in plan:
            name = "%s/%s %s" % (pair, scen, fmt)
            exe = os.path.join(d, "exe")
            cdir = os.path.join(work, "%s-%s-%s" % (pair, scen, fmt))
            os.mkdir(cdir)
            ccore = os.path.join(cdir, "core")
            compress(fmt, os.path.join(d, "core"), ccore)
            with open(ccore, "rb") as f:
                t.check(f.read(len(MAGIC[fmt])) == MAGIC[fmt], "%s: the file is %s data" % (name, fmt))
            for cmd in COMMANDS:
                same_output(t, "%s: %s" % (name, " ".join(cmd)), cmd + [exe, "core"], d, cdir, tmp)
            if fmt == "zstd" and (pair, scen, d) == cands[0]:
                # CORE alone: the executable found from the core's mappings, as for the file.
                same_output(t, "%s: why-blocked CORE" % name, ["why-blocked", "core"], d, cdir, tmp)
                # A corrupt stream: bytes flipped in the middle.
                with open(ccore, "rb") as f:
                    b = bytearray(f.read())
                for i in range(len(b) // 2, len(b) // 2 + 16):
                    b[i] ^= 0xA5
                bad = os.path.join(cdir, "bad.zst")
                with open(bad, "wb") as f:
                    f.write(b)
                one_line_error(t, "%s: corrupt .zst" % name, run(["why-blocked", exe, bad], cdir, tmp),
                               bad, ["corrupt", "zstd"])
            if fmt == "xz":
                with open(os.path.join(d, "core"), "rb") as f:
                    blocks = os.fstat(f.fileno()).st_blocks
                watch_disk(t, "%s: goroutines" % name, ["goroutines", exe, "core"], cdir, tmp, blocks)
                # Over a second for sure: the stream six times over (xz streams concatenate;
                # what follows the core in the output is never read).
                with open(ccore, "rb") as f, open(os.path.join(cdir, "core6"), "wb") as g:
                    g.write(f.read() * 6)
                progress_on_a_terminal(t, "%s: info" % name, ["info", exe, "core6"], cdir, tmp)
                killed_run_leaves_nothing(t, "%s: goroutines" % name, ["goroutines", exe, "core"], cdir, tmp)
                # A cut stream: half the file. gcore writes the notes last, so what arrived
                # has no notes: exit 2 saying the stream ends early. A core with its notes
                # first (the kernel's) would instead be read as a truncated core, with the
                # warning first on stdout.
                cut = os.path.join(cdir, "cut.xz")
                with open(ccore, "rb") as f, open(cut, "wb") as g:
                    data = f.read()
                    g.write(data[:len(data) // 2])
                res = run(["why-blocked", exe, cut], cdir, tmp)
                if res[0] == 0:
                    t.check(res[1].decode().startswith("warning: %s is truncated" % cut),
                            "%s: cut .xz analysed as a truncated core, with the warning first" % name)
                else:
                    one_line_error(t, "%s: cut .xz" % name, res, cut, ["xz stream ends early"])
            shutil.rmtree(cdir)
        # --peer: both cores of a two-process snapshot compressed.
        peer = [(p, s, d) for p, s, d in snapshots() if s == "split-peer-silent"
                and all(os.path.exists(os.path.join(d, f)) for f in ("exe", "core", "peer-core"))]
        if t.check(len(peer) > 0, "a split-peer-silent snapshot exists for --peer"):
            pair, scen, d = peer[0]
            cdir = os.path.join(work, "peer")
            os.mkdir(cdir)
            compress("zstd", os.path.join(d, "core"), os.path.join(cdir, "core"))
            compress("zstd", os.path.join(d, "peer-core"), os.path.join(cdir, "peer-core"))
            exe = os.path.join(d, "exe")
            for j in ([], ["--json"]):
                same_output(t, "%s/%s zstd: why-blocked --peer %s" % (pair, scen, " ".join(j)),
                            ["why-blocked"] + j + ["--peer", exe, "peer-core", exe, "core"], d, cdir, tmp)
        t.check(os.listdir(tmp) == [], "nothing left in TMPDIR after every run: %s" % os.listdir(tmp))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    t.finish()


if __name__ == "__main__":
    main()
