"""Shared helpers for the gdb and lldb wrapper tests: which snapshots they use, running the
CLI for the expected output, starting a live scenario, and checking it runs again."""
import json
import os
import subprocess
import time

from snapshots import OUT, ROOT, run, truth

PAIRS = ("go127-grpc181", "go119-grpc133")
SCENARIOS = ("peer-silent", "handler-blocked", "handler-blocked-pie")
LIVE = (("go127-grpc181", "peer-silent"), ("go119-grpc133", "handler-blocked-pie"))


def wanted_snapshots(t):
    """[(name, dir)] of the snapshots the wrapper tests use; a missing one is a FAIL."""
    found = []
    for pair in PAIRS:
        for scen in SCENARIOS:
            d = os.path.join(OUT, pair, scen)
            missing = [f for f in ("exe", "core", "truth.json")
                       if not os.path.isfile(os.path.join(d, f))]
            if missing:
                t.fail("%s/%s: fixture snapshot incomplete (no %s in %s); run "
                       "GS_PAIRS=%s GS_SCENARIOS=%s fixtures/make-snapshots.sh"
                       % (pair, scen, ", ".join(missing), d, pair, scen))
                continue
            found.append(("%s/%s" % (pair, scen), d))
    return found


def cli(args, d):
    """(rc, stdout, stderr) of `grpcscope ARGS EXE CORE` with absolute paths (as debuggers
    report them)."""
    return run(args + [os.path.abspath(os.path.join(d, "exe")),
                       os.path.abspath(os.path.join(d, "core"))])


def truth_ids(d):
    return [g["id"] for g in truth(d)["goroutines"]]


def start(exe):
    """Starts a scenario; returns (Popen, TRUTH dict) once it printed its TRUTH line."""
    p = subprocess.Popen([exe], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        if line.startswith("TRUTH "):
            return p, json.loads(line[6:])
    p.kill()
    p.wait()
    raise RuntimeError("%s did not reach its TRUTH line" % exe)


def threads_running(pid):
    """True when every thread is in a running/sleeping state and none is traced."""
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            st = dict(l.split(":", 1) for l in f if ":" in l)
        if st["State"].strip()[0] in "tT" or st["TracerPid"].strip() != "0":
            return False
    return True


def check_live_goroutines(t, what, out, tr):
    """The TRUTH goroutines are in a `goroutines --json` output with their wait reasons."""
    try:
        ours = {g["id"]: g for g in json.loads(out)["goroutines"]}
    except (ValueError, KeyError) as e:
        t.fail("%s: goroutines --json is not JSON (%s): %r" % (what, e, out[:200]))
        return
    for tg in tr["goroutines"]:
        g = ours.get(tg["id"])
        t.check(g is not None and g["wait_reason"] == tg["wait"],
                "%s: live goroutine %d waits [%s] (TRUTH [%s])"
                % (what, tg["id"], g and g["wait_reason"], tg["wait"]))


def first_diff(a, b):
    """A short description of where two outputs differ."""
    al, bl = a.splitlines(), b.splitlines()
    for i in range(max(len(al), len(bl))):
        x = al[i] if i < len(al) else "<end>"
        y = bl[i] if i < len(bl) else "<end>"
        if x != y:
            return "line %d: got %r, CLI %r" % (i + 1, x[:120], y[:120])
    return "trailing newline differs" if a != b else "equal"


WRAPPER_GDB = os.path.join(ROOT, "gdb", "grpcscope.py")
WRAPPER_LLDB = os.path.join(ROOT, "lldb", "grpcscope.py")
