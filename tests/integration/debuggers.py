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


def check_live_verdicts(t, what, out, tr):
    """why-blocked --json inside the debugger gives each TRUTH goroutine its verdict."""
    try:
        got = {v["goroutine"]: v for v in json.loads(out)["verdicts"]}
    except (ValueError, KeyError, TypeError) as e:
        t.fail("%s: why-blocked --json is not JSON (%s): %r" % (what, e, (out or "")[:200]))
        return
    for tg in tr["goroutines"]:
        if tg["verdict"] == "none":
            continue
        v = got.get(tg["id"])
        t.check(v is not None and v["verdict"] == tg["verdict"],
                "%s: live goroutine %d is %s (want %s)" % (what, tg["id"], v and v["verdict"], tg["verdict"]))


def listening_ports(pid):
    """TCP ports the process listens on (its sockets' inodes matched in /proc/net/tcp)."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if cols[3] == "0A" and cols[9] in inodes:  # LISTEN
                        ports.append(int(cols[1].rsplit(":", 1)[1], 16))
        except OSError:
            pass
    return ports


def answers_http2(pid, timeout=5.0):
    """The process still serves: its gRPC server answers a new HTTP/2 connection with its
    SETTINGS frame (which only a running Go program sends)."""
    import socket
    for port in listening_ports(pid):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as so:
                so.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]))
                head = b""
                while len(head) < 9:
                    chunk = so.recv(9 - len(head))
                    if not chunk:
                        break
                    head += chunk
                if len(head) == 9 and head[3] == 4:
                    return True
        except OSError:
            continue
    return False


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
