#!/usr/bin/env python3
"""Ten processes at once (fixtures/out-chains/chain10: ten Go processes in a row, built with
six Go releases and three grpc-go versions): the wall time and peak RSS of analysing all ten
as one set (`why-blocked --snapshots DIR`, every chain followed through the ten) next to
analysing each of the ten alone (`why-blocked EXE CORE`), and the ratio of the set to the sum
of the ten. Each figure is the median of --reps rounds after one untimed warm-up. The cost
compared is CPU time (user + system): on a machine shared with other work, wall time is
mostly the wait for a CPU and moves by tens of per cent from run to run; both are printed.
Exits 1 when the set's least CPU time over the rounds is more than the sum of the ten's. Usage: bench/chains.py [--reps N]
[--json]"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.realpath(os.environ.get("GS_CHAINS_OUT", os.path.join(ROOT, "fixtures", "out-chains")))
GS = os.environ.get("GS_BIN", os.path.join(ROOT, "build", "grpcscope"))


def measure(argv):
    """(wall seconds, CPU seconds, peak RSS in MiB) of one run; exits on a failed run."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("bench: %s: exit %d" % (" ".join(argv), os.waitstatus_to_exitcode(status)))
    return time.monotonic() - t0, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="the --json output instead of text")
    a = ap.parse_args()
    d = os.path.join(OUT, "chain10")
    hops = sorted((f[:-5] for f in os.listdir(d) if f.endswith(".core")), key=lambda h: int(h[3:])) \
        if os.path.isdir(d) else []
    if len(hops) != 10:
        sys.exit("bench: %s: not the ten processes of chain10 (make fixtures)" % d)
    fmt = ["--json"] if a.json else []
    runs = {"set": [GS, "why-blocked"] + fmt + ["--snapshots", d]}
    for h in hops:
        runs[h] = [GS, "why-blocked"] + fmt + [os.path.join(d, h), os.path.join(d, h + ".core")]
    # One warm-up of each (the cores' pages into the page cache), then rounds in which every
    # command runs once: a slow phase of the machine falls on all of them alike.
    res = {k: [] for k in runs}
    for r in range(a.reps + 1):
        for k, argv in runs.items():
            m = measure(argv)
            if r:
                res[k].append(m)
    # Medians of wall time; CPU time also as its least over the rounds (what the work costs
    # when nothing else on the machine gets in the way: caches, frequency).
    med = {k: (statistics.median(m[0] for m in v), statistics.median(m[1] for m in v),
               max(m[2] for m in v), min(m[1] for m in v)) for k, v in res.items()}
    print("ten processes, %s (median of %d rounds)" % (d, a.reps))
    print("  %-42s %9s %9s %9s %9s" % ("", "wall", "CPU", "least CPU", "peak RSS"))
    for h in hops:
        w, c, m, lc = med[h]
        print("  %-42s %7.3f s %7.3f s %7.3f s %5.1f MiB" % ("why-blocked %s alone" % h, w, c, lc, m))
    wall = sum(med[h][0] for h in hops)
    cpu = sum(med[h][1] for h in hops)
    least = sum(med[h][3] for h in hops)
    print("  %-42s %7.3f s %7.3f s %7.3f s" % ("the ten alone, summed", wall, cpu, least))
    w, c, m, lc = med["set"]
    print("  %-42s %7.3f s %7.3f s %7.3f s %5.1f MiB" % ("why-blocked --snapshots DIR (ten as one)", w, c, lc, m))
    ok = lc <= least
    print("  the set costs %.2f times the ten alone in wall time, %.2f in CPU time, %.2f in least "
          "CPU time (%s)" % (w / wall, c / cpu, lc / least, "at most 1: ok" if ok else "MORE"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
