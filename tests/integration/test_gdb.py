#!/usr/bin/env python3
"""gdb front end (gdb/grpcscope.py): on fixture cores, every command prints exactly what the
CLI prints on the same snapshot — through the core path and through gdb's memory
(GRPCSCOPE_FORCE_CALLBACKS=1, the path a live or remote target takes); library errors come
back as gdb errors; attached to a live scenario, the TRUTH goroutines are found and the
process runs on after gdb detaches."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import OUT, Tally  # noqa: E402
from debuggers import (LIVE, answers_http2, check_live_verdicts, WRAPPER_GDB, check_live_goroutines, cli, first_diff,  # noqa: E402
                       start, threads_running, truth_ids, wanted_snapshots)


def gdb(cmds, target_args, env_extra=None, timeout=180):
    """Runs gdb in batch mode with the wrapper; returns ({i: text of command i}, all output).
    Each command's stdout and stderr (gdb errors) land between markers."""
    args = ["gdb", "-q", "-batch", "-nx", "-ex", "source " + WRAPPER_GDB]
    for i, c in enumerate(cmds):
        args += ["-ex", "echo @@GS-BEGIN %d@@\\n" % i, "-ex", c, "-ex", "echo @@GS-END %d@@\\n" % i]
    env = dict(os.environ, DEBUGINFOD_URLS="")
    env.update(env_extra or {})
    p = subprocess.run(args + target_args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, text=True, timeout=timeout, env=env)
    res = {}
    for i in range(len(cmds)):
        b, e = "@@GS-BEGIN %d@@\n" % i, "@@GS-END %d@@\n" % i
        s = p.stdout.find(b)
        f = p.stdout.find(e, s + len(b)) if s >= 0 else -1
        res[i] = p.stdout[s + len(b):f] if s >= 0 and f >= 0 else None
    return res, p.stdout


def compare(t, what, got, want):
    t.check(got == want, "%s: equals the CLI%s"
            % (what, "" if got == want else " (%s)" % (first_diff(got, want) if got is not None
                                                        else "no output block")))


def check_core(t, name, d, callbacks):
    exe, core = os.path.abspath(os.path.join(d, "exe")), os.path.abspath(os.path.join(d, "core"))
    goid = truth_ids(d)[0]
    cmds = [("goroutines", ["goroutines"]),
            ("goroutines --json", ["goroutines", "--json"]),
            ("goroutines --stacks --status waiting", ["goroutines", "--stacks", "--status", "waiting"]),
            ("goroutine-bt %d" % goid, ["goroutines", "--stacks", "--id", str(goid)]),
            ("grpcscope goroutines --group", ["goroutines", "--group"]),
            ("grpcscope selfcheck", ["selfcheck"])]
    if not callbacks:
        cmds.append(("grpcscope info", ["info"]))
        # the PIE bias the wrapper hands a callback target, as the library finds it in the core
        cmds.append(('python print("bias 0x%x" % _gs_bias(_gs_exe()))', None))
    # Not yet in the library everywhere: whatever the CLI says, the wrapper says too.
    cmds += [("streams", ["streams"]), ("why-blocked", ["why-blocked"])]
    how = "callbacks" if callbacks else "core"
    env = {"GRPCSCOPE_FORCE_CALLBACKS": "1"} if callbacks else {}
    t0 = time.time()
    res, allout = gdb([c for c, _ in cmds], [exe, core], env)
    took = time.time() - t0
    if res[0] is None:
        t.fail("%s [%s]: gdb ran no command: %s" % (name, how, allout[-500:]))
        return
    blocks = set(res.values())
    if len(blocks) == 1 and res[0] is not None and res[0].startswith("grpcscope: ") \
            and cli(["goroutines"], d)[0] == 0:
        t.fail("%s [gdb %s]: every command fails where the CLI succeeds: %s"
               % (name, how, res[0].strip()))
        return
    for i, (c, argv) in enumerate(cmds):
        if argv is None:
            rc, out, err = cli(["info", "--json"], d)
            want = "bias %s" % json.loads(out).get("load_bias", "0x0") if rc == 0 else "?"
            t.check(res[i] is not None and res[i].strip() == want,
                    "%s [%s]: the wrapper's load-bias hint %r is the library's %r"
                    % (name, how, (res[i] or "").strip(), want))
            continue
        rc, out, err = cli(argv, d)
        what = "%s [gdb %s] %s" % (name, how, c)
        if rc == 0:
            compare(t, what, res[i], out)
        else:
            msg = err.strip().splitlines()[-1] if err.strip() else "?"
            t.check(res[i] is not None and msg in res[i] and "Traceback" not in res[i],
                    "%s: fails with the CLI's message %r (got %r)"
                    % (what, msg, (res[i] or "").strip()[-200:]))
    print("     %s [gdb %s]: %d commands in %.2fs" % (name, how, len(cmds), took))


def check_errors(t, name, d):
    """Bad usage through the wrapper: a gdb error with the library's message, no traceback."""
    exe, core = os.path.abspath(os.path.join(d, "exe")), os.path.abspath(os.path.join(d, "core"))
    res, _ = gdb(["goroutines --bogus", "goroutine-bt", "grpcscope nosuchcommand"], [exe, core])
    for i, c in enumerate(["goroutines --bogus", "goroutine-bt", "grpcscope nosuchcommand"]):
        r = res[i] or ""
        t.check(r.strip() != "" and "Traceback" not in r and "Python Exception" not in r,
                "%s [gdb] %s: a plain gdb error (%r)" % (name, c, r.strip()[-160:]))
    rc, out, err = cli(["nosuchcommand"], d)
    msg = err.strip().splitlines()[-1].replace("grpcscope: ", "") if err.strip() else "?"
    t.check(msg in (res[2] or ""), "%s [gdb] unknown command passes the library's message %r"
            % (name, msg))


def check_live(t, pair, scen):
    exe = os.path.join(OUT, pair, scen, "exe")
    if not os.path.isfile(exe):
        t.fail("%s/%s: no executable for the live test (%s)" % (pair, scen, exe))
        return
    p, tr = start(exe)
    try:
        t0 = time.time()
        res, allout = gdb(["goroutines --json", "goroutine-bt %d" % tr["goroutines"][0]["id"],
                           "why-blocked --json"], ["-p", str(p.pid)])
        took = time.time() - t0
        what = "%s/%s [gdb -p]" % (pair, scen)
        if res[0] is None:
            t.fail("%s: gdb ran no command: %s" % (what, allout[-500:]))
        else:
            check_live_goroutines(t, what, res[0], tr)
            t.check(res[1] is not None and ("goroutine %d [" % tr["goroutines"][0]["id"]) in res[1]
                    and "runtime.goexit" in res[1],
                    "%s: goroutine-bt prints the stack (%r)" % (what, (res[1] or "")[:160]))
            check_live_verdicts(t, what, res[2], tr)
        time.sleep(0.2)
        t.check(threads_running(p.pid), "%s: every thread runs, untraced, after gdb detached" % what)
        t.check(p.poll() is None, "%s: the scenario process is still alive" % what)
        t.check(answers_http2(p.pid), "%s: its gRPC server still answers a new connection" % what)
        print("     %s: gdb attach + 2 commands + detach in %.2fs" % (what, took))
    finally:
        p.kill()
        p.wait()


def free_port():
    import socket
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


def check_gdbserver(t, pair, scen):
    """A remote target: gdbserver holds the process, gdb reaches memory and registers only
    through the remote protocol, and the wrapper reads through gdb."""
    exe = os.path.join(OUT, pair, scen, "exe")
    if not os.path.isfile(exe):
        t.fail("%s/%s: no executable for the gdbserver test" % (pair, scen))
        return
    p, tr = start(exe)
    port = free_port()
    srv = subprocess.Popen(["gdbserver", "--once", "--attach", "127.0.0.1:%d" % port, str(p.pid)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    what = "%s/%s [gdbserver]" % (pair, scen)
    try:
        time.sleep(0.5)
        args = ["gdb", "-q", "-batch", "-nx", "-ex", "target remote 127.0.0.1:%d" % port,
                "-ex", "source " + WRAPPER_GDB, "-ex", "echo @@GS-BEGIN 0@@\\n",
                "-ex", "goroutines --json", "-ex", "echo @@GS-END 0@@\\n", "-ex", "detach", exe]
        out = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             stdin=subprocess.DEVNULL, timeout=180,
                             env=dict(os.environ, DEBUGINFOD_URLS="")).stdout
        b, e = out.find("@@GS-BEGIN 0@@\n"), out.find("@@GS-END 0@@\n")
        if b < 0 or e < 0:
            t.fail("%s: no output block: %s" % (what, out[-400:]))
        else:
            check_live_goroutines(t, what, out[b + len("@@GS-BEGIN 0@@\n"):e], tr)
        srv.wait(timeout=30)
        time.sleep(0.2)
        t.check(threads_running(p.pid), "%s: every thread runs, untraced, after gdbserver detached" % what)
        t.check(p.poll() is None, "%s: the scenario process is still alive" % what)
        t.check(answers_http2(p.pid), "%s: its gRPC server still answers a new connection" % what)
    finally:
        if srv.poll() is None:
            srv.kill()
        p.kill()
        p.wait()


def main():
    t = Tally("gdb")
    if subprocess.run(["gdb", "--version"], capture_output=True).returncode != 0:
        t.fail("gdb is not installed")
        t.finish()
    snaps = wanted_snapshots(t)
    for name, d in snaps:
        for callbacks in (False, True):
            try:
                check_core(t, name, d, callbacks)
            except Exception as e:  # a snapshot being regenerated under us, a hung debugger
                t.fail("%s [%s]: %s: %s" % (name, "callbacks" if callbacks else "core",
                                             type(e).__name__, e))
    if snaps:
        check_errors(t, *snaps[0])
    for pair, scen in LIVE:
        try:
            check_live(t, pair, scen)
        except Exception as e:
            t.fail("%s/%s [live]: %s: %s" % (pair, scen, type(e).__name__, e))
    if subprocess.run(["which", "gdbserver"], capture_output=True).returncode != 0:
        t.fail("gdbserver is not installed (make deps)")
    else:
        for pair, scen in LIVE:
            try:
                check_gdbserver(t, pair, scen)
            except Exception as e:
                t.fail("%s/%s [gdbserver]: %s: %s" % (pair, scen, type(e).__name__, e))
    t.finish()


if __name__ == "__main__":
    main()
