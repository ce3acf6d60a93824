#!/usr/bin/env python3
"""Live sampling and the copy taken while paused.

`--pid PID --samples N --interval S` on the running stuck-or-slow scenario (one stream stuck
behind flow control, one slow): every sample's pause is reported and brief, the stuck stream
is unchanged and its goroutines parked, the slow one progressed and its goroutines moved,
why-blocked gives the TRUTH verdicts to the stuck goroutines only and lists the slow ones as
progressing; afterwards the process runs, untraced. And `--pid` answers from its copy exactly
what a core taken with gcore of the same (static) process answers."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import OUT, Tally, run  # noqa: E402
from debuggers import start, threads_running  # noqa: E402

PAIRS = ("go127-grpc181", "go119-grpc133")
PAUSE_BOUND_MS = 2000  # generous: the figures belong to bench/live_pause.py


def state(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("State:"):
                return line.split()[1]
    return "?"


def check_alive(t, what, p):
    t.check(p.poll() is None and state(p.pid) not in "tT" and threads_running(p.pid),
            "%s: the process runs on, untraced (State %s)" % (what, state(p.pid)))


def sampled(t, what, args, p, n):
    rc, out, err = run(args + ["--json", "--pid", str(p.pid), "--samples", str(n),
                               "--interval", "0.4"])
    t.check(rc == 0, "%s: exit %d %s" % (what, rc, err.strip()[:300]))
    check_alive(t, what, p)
    try:
        d = json.loads(out)
    except ValueError:
        t.fail("%s: not JSON: %r" % (what, out[:200]))
        return None
    s = d.get("samples", [])
    t.check(len(s) == n and all(0 < x["pause_ms"] < PAUSE_BOUND_MS for x in s),
            "%s: %d samples, each pause reported and under %d ms: %s"
            % (what, n, PAUSE_BOUND_MS, [x.get("pause_ms") for x in s]))
    t.check(d.get("command") == args[0], "%s: command %s" % (what, d.get("command")))
    return d


def stream_with(d, goid):
    """The diff entry of the stream that goroutine goid serves (in either sample)."""
    for s in d["streams"]:
        for side in ("before", "after"):
            if s[side] and goid in s[side]["goroutines"]:
                return s
    return None


def check_sampling(t, pair):
    exe = os.path.join(OUT, pair, "stuck-or-slow", "exe")
    if not os.path.isfile(exe):
        t.fail("%s: no stuck-or-slow executable at %s (build the fixture)" % (pair, exe))
        return
    p, tr = start(exe)
    try:
        stuck, slow = tr["params"]["stuck"], tr["params"]["slow"]
        want = {g["id"]: g["verdict"] for g in tr["goroutines"]}
        d = sampled(t, "%s streams" % pair, ["streams"], p, 3)
        if d:
            st, sl = stream_with(d, stuck[1]), stream_with(d, slow[1])
            t.check(st is not None and st["change"] == "unchanged",
                    "%s: the stuck handler's stream is unchanged (%s)" % (pair, st and st["change"]))
            t.check(sl is not None and sl["change"] == "progressed",
                    "%s: the slow handler's stream progressed (%s)" % (pair, sl and sl["change"]))
            clients = sorted(s["change"] for s in d["streams"] if s["side"] == "client")
            t.check(clients == ["progressed", "unchanged"],
                    "%s: of the two client streams one is stuck, one slow: %s" % (pair, clients))
        d = sampled(t, "%s goroutines" % pair, ["goroutines"], p, 2)
        if d:
            ch = {g["id"]: g["change"] for g in d["goroutines"]}
            t.check(all(ch.get(g) == "parked" for g in stuck),
                    "%s: stuck goroutines %s parked: %s" % (pair, stuck, [ch.get(g) for g in stuck]))
            t.check(all(ch.get(g) == "moved" for g in slow),
                    "%s: slow goroutines %s moved: %s" % (pair, slow, [ch.get(g) for g in slow]))
        d = sampled(t, "%s why-blocked" % pair, ["why-blocked"], p, 3)
        if d:
            got = {v["goroutine"]: v["verdict"] for v in d["verdicts"]}
            for g in stuck:
                t.check(got.get(g) == want.get(g), "%s: stuck goroutine %d is %s (TRUTH %s)"
                        % (pair, g, got.get(g), want.get(g)))
            # A progressing goroutine may still appear as a step of a stuck one's chain
            # ("reached"); it gets no verdict of its own.
            own = {v["goroutine"] for v in d["verdicts"] if not v.get("reached")}
            t.check(not set(slow) & own and set(slow) <= set(d.get("progressing", [])),
                    "%s: slow goroutines %s have no verdict and are progressing: %s"
                    % (pair, slow, d.get("progressing")))
            # ... and then it is marked progressing: a moving step is no end of a chain.
            prog = set(d.get("progressing", []))
            bad = [(v["goroutine"], v.get("reached"), v.get("progressing")) for v in d["verdicts"]
                   if bool(v.get("progressing")) != bool(v.get("reached") and v["goroutine"] in prog)]
            t.check(not bad, "%s: exactly the chain steps that moved are \"progressing\": true %s"
                    % (pair, bad))
        rc, out, err = run(["why-blocked", "--pid", str(p.pid), "--samples", "2",
                            "--interval", "0.2"])
        t.check(rc == 0 and "progressing (moved between samples" in out and "sample 2 at" in out,
                "%s: why-blocked text lists the samples and the progressing goroutines" % pair)
        check_text_steps(t, pair, out)
        check_alive(t, pair, p)
    finally:
        p.kill()
        p.wait()


def check_text_steps(t, pair, out):
    """Every goroutine a chain line names says "(progressing)" exactly when it is among the
    progressing ones (whether the slow goroutine is a step depends on timing: both ways
    hold)."""
    m = re.search(r"^progressing \(moved between samples, so no verdict\): \d+ goroutines?:([\d ]*)$",
                  out, re.M)
    prog = set(int(x) for x in m.group(1).split()) if m else set()
    steps = re.findall(r"goroutine (\d+) \([^)]*\)( \(progressing\))?",
                       "\n".join(l for l in out.splitlines() if l.startswith("  next: ")))
    bad = [(int(g), bool(p)) for g, p in steps if bool(p) != (int(g) in prog)]
    t.check(not bad, "%s: why-blocked text marks exactly the moving chain steps (progressing): %s"
            % (pair, bad or "%d steps" % len(steps)))


def check_misuse(t):
    core = os.path.join(OUT, "go127-grpc181", "peer-silent")
    rc, _, err = run(["streams", "--samples", "3", os.path.join(core, "exe"),
                      os.path.join(core, "core")])
    t.check(rc == 2 and "--pid" in err, "--samples on a core is exit 2 asking for --pid: %s"
            % err.strip())
    rc, _, err = run(["info", "--samples", "3", "--pid", "1"])
    t.check(rc == 2 and "not of info" in err, "info --samples is exit 2: %s" % err.strip())
    rc, _, err = run(["streams", "--samples", "1", "--pid", "1"])
    t.check(rc == 2 and "from 2 to" in err, "--samples 1 is exit 2: %s" % err.strip())


def drop_clock(v):
    """How long before the snapshot a transport last read depends on the moment each
    snapshot was taken (now for the copy, the core file's time for gcore): left out."""
    if isinstance(v, dict):
        return {k: drop_clock(x) for k, x in v.items() if k != "before_snapshot_ns"}
    if isinstance(v, list):
        return [drop_clock(x) for x in v]
    return v


def normalised(out):
    d = json.loads(out)
    d.pop("target", None)
    return drop_clock(d)


def check_copy_equals_core(t, pair, scen):
    """On a static scenario, the answers from the live copy are those of a gcore core."""
    exe = os.path.join(OUT, pair, scen, "exe")
    if not shutil.which("gcore"):
        t.fail("gcore (gdb) is not installed")
        return
    p, _ = start(exe)
    tmp = tempfile.mkdtemp(prefix="gs-live-")
    try:
        live = {}
        for cmd in ("why-blocked", "streams", "goroutines"):
            rc, out, err = run([cmd, "--json", "--pid", str(p.pid)])
            t.check(rc == 0, "%s/%s: %s --pid exit %d %s" % (pair, scen, cmd, rc, err.strip()))
            live[cmd] = out
        check_alive(t, "%s/%s" % (pair, scen), p)
        g = subprocess.run(["gcore", "-o", os.path.join(tmp, "core"), str(p.pid)],
                           capture_output=True, text=True, timeout=300)
        core = os.path.join(tmp, "core.%d" % p.pid)
        if g.returncode != 0 or not os.path.isfile(core):
            t.fail("%s/%s: gcore failed: %s" % (pair, scen, g.stderr.strip()[-300:]))
            return
        for cmd, out in live.items():
            rc, cout, err = run([cmd, "--json", exe, core])
            same = rc == 0 and normalised(cout) == normalised(out)
            t.check(same, "%s/%s: %s --pid from the copy equals %s on a gcore core"
                    % (pair, scen, cmd, cmd))
    finally:
        p.kill()
        p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    t = Tally("live-sampling")
    for pair in PAIRS:
        check_sampling(t, pair)
    check_misuse(t)
    check_copy_equals_core(t, "go127-grpc181", "handler-blocked")
    check_copy_equals_core(t, "go119-grpc133", "peer-silent")
    t.finish()


if __name__ == "__main__":
    main()
