#!/usr/bin/env python3
"""`--pid`: a live scenario process is read while paused and always resumed: the goroutines
the program names in its TRUTH line are found with their waits, `info` reports the pause,
and afterwards no thread is stopped or traced. Also after grpcscope is killed mid-read."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import GRPCSCOPE, OUT, Tally, run  # noqa: E402
from debuggers import answers_http2  # noqa: E402


def start(exe):
    p = subprocess.Popen([exe], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        if line.startswith("TRUTH "):
            return p, json.loads(line[6:])
    p.kill()
    raise RuntimeError("%s did not reach its TRUTH line" % exe)


def threads_running(pid):
    """True when every thread is in a running/sleeping state and none is traced."""
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            st = dict(l.split(":", 1) for l in f if ":" in l)
        if st["State"].strip()[0] in "tT" or st["TracerPid"].strip() != "0":
            return False
    return True


def main():
    t = Tally("live")
    pairs = [p for p in ("go127-grpc181", "go119-grpc133")
             if os.path.exists(os.path.join(OUT, p, "peer-silent", "exe"))]
    t.check(len(pairs) == 2, "peer-silent executables of go127 and go119 exist")
    for pair in pairs:
        exe = os.path.join(OUT, pair, "peer-silent", "exe")
        p, tr = start(exe)
        try:
            rc, out, err = run(["goroutines", "--json", "--pid", str(p.pid)])
            got = json.loads(out) if rc == 0 else {"goroutines": []}
            t.check(rc == 0, "%s: goroutines --pid exit %d %s" % (pair, rc, err.strip()))
            ours = {g["id"]: g for g in got["goroutines"]}
            for tg in tr["goroutines"]:
                g = ours.get(tg["id"])
                t.check(g is not None and g["wait_reason"] == tg["wait"],
                        "%s: live goroutine %d waits [%s] (TRUTH [%s])"
                        % (pair, tg["id"], g and g["wait_reason"], tg["wait"]))
            t.check(threads_running(p.pid), "%s: every thread runs again after the read" % pair)
            rc, out, err = run(["info", "--json", "--pid", str(p.pid)])
            info = json.loads(out) if rc == 0 else {}
            t.check(info.get("target_kind") == "live" and 0 < info.get("pause_ms", 0) < 5000,
                    "%s: info reports a live target paused %s ms" % (pair, info.get("pause_ms")))
            # Killed in the middle of reading: the kernel detaches, the process runs on.
            q = subprocess.Popen([GRPCSCOPE, "goroutines", "--stacks", "--pid", str(p.pid)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.05)
            q.send_signal(signal.SIGKILL)
            q.wait()
            time.sleep(0.2)
            t.check(threads_running(p.pid), "%s: process runs on after grpcscope was SIGKILLed" % pair)
            q = subprocess.Popen([GRPCSCOPE, "goroutines", "--stacks", "--pid", str(p.pid)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.05)
            q.send_signal(signal.SIGTERM)
            q.wait()
            time.sleep(0.2)
            t.check(threads_running(p.pid), "%s: process runs on after SIGTERM to grpcscope" % pair)
            t.check(p.poll() is None, "%s: the scenario process is still alive" % pair)
            t.check(answers_http2(p.pid), "%s: its gRPC server still answers a new connection" % pair)
        finally:
            p.kill()
            p.wait()
    t.finish()


if __name__ == "__main__":
    main()
