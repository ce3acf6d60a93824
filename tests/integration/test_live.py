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
from debuggers import answers_http2, check_live_goroutines, start, threads_running  # noqa: E402


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
            t.check(rc == 0, "%s: goroutines --pid exit %d %s" % (pair, rc, err.strip()))
            check_live_goroutines(t, pair, out if rc == 0 else '{"goroutines": []}', tr)
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
