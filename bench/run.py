#!/usr/bin/env python3
"""Benchmarks on the large many-streams snapshots (make bench-fixtures): wall time and peak
RSS of grpcscope commands, next to delve's goroutine listing of the same core, and the
ratios (issue 15's aim: why-blocked as a person runs it, text, at least 20x faster than
delve's listing; every command at most 150 MB of peak RSS). Figures only; no pass/fail.
Usage: bench/run.py [--reps N] [--out DIR] [--gs GRPCSCOPE] [PAIR...]"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "out")
GS = os.path.join(ROOT, "build", "grpcscope")
CACHE = os.environ.get("GS_CACHE", "/var/cache/grpcscope")


def measure(argv):
    """(seconds, peak RSS in MiB, exit status) of one run."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    return time.monotonic() - t0, ru.ru_maxrss / 1024.0, os.waitstatus_to_exitcode(status)


def bench(name, argv, reps):
    """Median wall time (min and max beside it) and peak RSS of reps runs after one untimed
    warm-up run: on this VM the kernel drops cold page-cache pages of the core between
    runs, and the first run after that measures the disk, not the tool."""
    if reps > 1:
        measure(argv)
    runs = [measure(argv) for _ in range(reps)]
    bad = [r for r in runs if r[2] != 0]
    secs = statistics.median(r[0] for r in runs)
    rss = max(r[1] for r in runs)
    spread = "  [%.3f-%.3f]" % (min(r[0] for r in runs), max(r[0] for r in runs)) if reps > 1 else ""
    print("  %-34s %8.3f s  %8.1f MiB%s%s" % (name, secs, rss, spread,
                                            "  (exit %d!)" % bad[0][2] if bad else ""))
    return secs, rss


def delve_for(pair):
    """The delve the fixtures use for that pair (fixtures/matrix, delve-suite column)."""
    suite = "sid"
    with open(os.path.join(ROOT, "fixtures", "matrix")) as f:
        for line in f:
            w = line.split()
            if len(w) >= 4 and w[0] == pair:
                suite = w[3]
    return os.path.join(CACHE, "delve", suite, "usr", "bin", "dlv")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--out", default=OUT, help="the snapshots' directory (default fixtures/out)")
    ap.add_argument("--gs", default=GS, help="the grpcscope to measure (default build/grpcscope)")
    ap.add_argument("pairs", nargs="*")
    a = ap.parse_args()
    run_pairs(a)


# Every command a person runs on a snapshot: peak RSS of each is bounded (issue 15).
RSS_COMMANDS = (["goroutines", "--json"], ["streams", "--json"],
                ["why-blocked", "--json"], ["why-blocked", "--all"], ["info"])


def run_pairs(a):
    global GS
    GS = a.gs
    OUT = a.out
    pairs = a.pairs or sorted(p for p in os.listdir(OUT)
                              if os.path.isdir(os.path.join(OUT, p, "many-streams-large")))
    if not pairs:
        sys.exit("bench: no large snapshot; run make bench-fixtures")
    for pair in pairs:
        d = os.path.join(OUT, pair, "many-streams-large")
        exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
        n = subprocess.run([GS, "info", "--json", exe, core], capture_output=True, text=True)
        print("%s/many-streams-large: %s" % (pair, n.stdout.strip()[:400]))
        g, r1 = bench("grpcscope goroutines", [GS, "goroutines", exe, core], a.reps)
        s, r2 = bench("grpcscope goroutines --stacks", [GS, "goroutines", "--stacks", exe, core], a.reps)
        peaks = {"goroutines": r1, "goroutines --stacks": r2}
        extra = {}
        for cmd in ("streams", "why-blocked"):
            probe = subprocess.run([GS, cmd, exe, core], capture_output=True, text=True)
            if probe.returncode == 0:
                extra[cmd], peaks[cmd] = bench("grpcscope " + cmd, [GS, cmd, exe, core], a.reps)
        dlv = delve_for(pair)
        dv = dvs = None
        with tempfile.TemporaryDirectory() as tmp:
            # delve's listing three times (its median is the ratio's base); -t once (minutes).
            for cmd, reps in (("goroutines", 3), ("goroutines -t", 1)):
                init = os.path.join(tmp, "init")
                with open(init, "w") as f:
                    f.write(cmd + "\nexit\n")
                secs, _ = bench("dlv core ... " + cmd, [dlv, "core", exe, core, "--check-go-version=false",
                                                       "--allow-non-terminal-interactive=true", "--init", init], reps)
                if cmd == "goroutines":
                    dv = secs
                else:
                    dvs = secs
        print("  ratio delve/grpcscope: goroutines %.1fx, with stacks %.1fx" % (dv / g, dvs / s))
        if "why-blocked" in extra:
            print("  ratio delve goroutines / grpcscope why-blocked (text): %.1fx" % (dv / extra["why-blocked"]))
        peaks.update(rss_bench(exe, core, a.reps))
        top = max(peaks, key=peaks.get)
        print("  peak RSS, every command: at most %.1f MiB (%s)" % (peaks[top], top))
        phases(exe, core)
        stripped_bench(exe, core, a.reps, {"goroutines": g, **extra})
        gdb_bench(exe, core, extra.get("why-blocked"))


def rss_bench(exe, core, reps):
    """The other commands: their time and peak RSS, by command."""
    peaks = {}
    for cmd in RSS_COMMANDS:
        _, peaks[" ".join(cmd)] = bench("grpcscope " + " ".join(cmd), [GS] + cmd + [exe, core],
                                        min(reps, 3))
    with tempfile.TemporaryDirectory() as tmp:
        _, peaks["report -o"] = bench("grpcscope report -o FILE",
                                      [GS, "report", "-o", os.path.join(tmp, "r.html"), exe, core],
                                      min(reps, 3))
    return peaks


def stripped_bench(exe, core, reps, dwarf_secs):
    """The same core read with a copy of the executable stripped of DWARF and symbols
    (objcopy --strip-all, as Debian ships binaries): layouts from type descriptors, globals
    from code. Issue 12's aim: within 1.2x of the DWARF run. The two are run alternately
    (this VM's phases move whole series by 20-40 %) and their medians compared."""
    with tempfile.TemporaryDirectory() as tmp:
        s = os.path.join(tmp, "exe-stripped")
        subprocess.run(["objcopy", "--strip-all", exe, s], check=True)
        for cmd in ("goroutines", "why-blocked"):
            if cmd not in dwarf_secs:
                continue
            measure([GS, cmd, s, core])
            pairs = [(measure([GS, cmd, exe, core]), measure([GS, cmd, s, core])) for _ in range(reps)]
            d = statistics.median(p[0][0] for p in pairs)
            st = statistics.median(p[1][0] for p in pairs)
            rss = max(p[1][1] for p in pairs)
            print("  %-34s %8.3f s  %8.1f MiB  (DWARF, alternated: %.3f s)" % (
                "grpcscope %s (stripped exe)" % cmd, st, rss, d))
            print("  stripped/DWARF %s: %.2fx" % (cmd, st / d))


def phases(exe, core):
    """Where one more run of `goroutines` spends its time (GRPCSCOPE_TIMING)."""
    env = dict(os.environ, GRPCSCOPE_TIMING="1")
    p = subprocess.run([GS, "goroutines", exe, core], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, env=env)
    line = [l for l in p.stderr.splitlines() if l.startswith("timing:")]
    if line:
        print("  goroutines phases: " + line[-1][len("timing: "):])


def gdb_bench(exe, core, cli_secs):
    """why-blocked inside gdb (the wrapper over the same library) against the CLI."""
    script = os.path.join(ROOT, "gdb", "grpcscope.py")
    if not cli_secs or not os.path.exists(script):
        return
    base, _ = bench("gdb -batch (load only)", ["gdb", "-batch", "-nx", "-ex", "source " + script, exe, core], 1)
    full, _ = bench("gdb -batch why-blocked", ["gdb", "-batch", "-nx", "-ex", "source " + script,
                                                "-ex", "why-blocked", exe, core], 1)
    print("  why-blocked inside gdb: %.3f s over gdb's own start, %.2fx the CLI" % (full - base, (full - base) / cli_secs))


if __name__ == "__main__":
    main()
