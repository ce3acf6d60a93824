#!/usr/bin/env python3
"""How long `grpcscope --pid` pauses a live process: the many-streams scenario program is
started with about 10,000 and 60,000 goroutines (three a stream: the client's, the handler's
and the stream's own), and each command (`info` and `why-blocked` unless --commands says
otherwise) is run against it several times; each run's pause is the one grpcscope reports
(info's pause_ms; GRPCSCOPE_TIMING's "paused" for the others). Prints the median and the
maximum of each, and with --baseline the ratio of the medians. Figures only; no pass/fail.

Usage: bench/live_pause.py [--reps N] [--pair PAIR] [--goroutines N,N] [--baseline GRPCSCOPE]
                           [--commands info,why-blocked,goroutines,streams]
(--baseline: another grpcscope binary measured alternately on the same process)."""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.realpath(os.environ.get("GS_FIXTURES", os.path.join(ROOT, "fixtures", "out")))
GS = os.environ.get("GS_BIN", os.path.join(ROOT, "build", "grpcscope"))
PAUSED = re.compile(r"paused ([0-9.]+) ms")


def start(exe, streams):
    """The scenario with that many idle streams, once it printed its TRUTH line."""
    env = dict(os.environ, GS_STATE_TIMEOUT="600")  # setting up 20,000 streams takes a while
    p = subprocess.Popen([exe, "-streams", str(streams), "-conns", "8", "-sample", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    deadline = time.time() + 600
    while time.time() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        if line.startswith("TRUTH "):
            return p
    p.kill()
    p.wait()
    sys.exit("live_pause: %s -streams %d did not reach its TRUTH line" % (exe, streams))


def state(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("State:"):
                return line.split()[1]
    return "?"


def pause_of(gs, cmd, pid):
    """(pause in ms, exit status, run time in ms) of one run of `gs CMD --pid PID`."""
    env = dict(os.environ, GRPCSCOPE_TIMING="1")
    args = [gs, cmd, "--pid", str(pid)] + (["--json"] if cmd == "info" else [])
    t0 = time.monotonic()
    p = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)
    wall = (time.monotonic() - t0) * 1e3
    if cmd == "info" and p.returncode == 0:
        return json.loads(p.stdout).get("pause_ms"), p.returncode, wall
    m = PAUSED.search(p.stderr)
    return (float(m.group(1)) if m else None), p.returncode, wall


def report(name, ms, walls):
    """Prints one line; returns the median pause (the whole run's when none is reported)."""
    ok = [m for m in ms if m is not None]
    if not ok:
        # A grpcscope from before the copy kept the process paused for all of its run.
        print("  %-44s no pause reported; whole run median %.1f ms, max %.1f ms"
              % (name, statistics.median(walls), max(walls)))
        return statistics.median(walls)
    print("  %-44s median %7.1f ms  max %7.1f ms  (%d runs: %s)"
          % (name, statistics.median(ok), max(ok), len(ok), " ".join("%.0f" % m for m in ok)))
    return statistics.median(ok)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--pair", default="go127-grpc181")
    ap.add_argument("--goroutines", default="10000,60000")
    ap.add_argument("--baseline")
    ap.add_argument("--commands", default="info,why-blocked")
    a = ap.parse_args()
    exe = os.path.join(OUT, a.pair, "many-streams", "exe")
    if not os.path.isfile(exe):
        sys.exit("live_pause: no %s (build the many-streams fixture for %s)" % (exe, a.pair))
    bins = [("grpcscope", GS)] + ([("baseline", a.baseline)] if a.baseline else [])
    for want in (int(x) for x in a.goroutines.split(",")):
        p = start(exe, max(1, want // 3))
        try:
            info = json.loads(subprocess.run([GS, "info", "--json", "--pid", str(p.pid)],
                                             capture_output=True, text=True).stdout)
            rss = 0
            with open("/proc/%d/status" % p.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1]) // 1024
            print("%s many-streams, %d goroutines, RSS %d MiB:" % (a.pair, info["goroutines"], rss))
            for cmd in a.commands.split(","):
                got = {name: [] for name, _ in bins}
                walls = {name: [] for name, _ in bins}
                for _ in range(a.reps):
                    for name, gs in bins:
                        ms, rc, wall = pause_of(gs, cmd, p.pid)
                        got[name].append(ms if rc == 0 else None)
                        walls[name].append(wall)
                        st = state(p.pid)
                        if st in "tT" or p.poll() is not None:
                            sys.exit("live_pause: the process is %s after %s %s"
                                     % ("gone" if p.poll() is not None else "stopped", name, cmd))
                med = {name: report("%s %s" % (name, cmd), got[name], walls[name])
                       for name, _ in bins}
                if a.baseline and med["baseline"]:
                    print("  %-44s %.2f of the baseline's median"
                          % ("ratio " + cmd, med["grpcscope"] / med["baseline"]))
        finally:
            p.kill()
            p.wait()


if __name__ == "__main__":
    main()
