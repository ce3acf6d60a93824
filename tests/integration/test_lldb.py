#!/usr/bin/env python3
"""lldb front end (lldb/grpcscope.py): on fixture cores, every command prints exactly what the
CLI prints on the same snapshot — with the core passed by path and through lldb's memory
(GRPCSCOPE_FORCE_CALLBACKS=1, the path a live target takes); library errors come back as
lldb errors; attached to a live scenario, the TRUTH goroutines are found and the process runs
on after lldb detaches. lldb 14's Python module on Debian 12 needs PYTHONPATH set (below)."""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import OUT, Tally  # noqa: E402
from debuggers import (LIVE, answers_http2, check_live_verdicts, WRAPPER_LLDB, check_live_goroutines, cli, first_diff,  # noqa: E402
                       start, threads_running, truth_ids, wanted_snapshots)

LLDB_PY = "/usr/lib/llvm-14/lib/python3.11/dist-packages"


def lldb(cmds, target_args, env_extra=None, tail=(), timeout=180):
    """Runs lldb in batch mode with the wrapper; returns ({i: text of command i}, all output).
    Commands run from a `command source -e false` file so that an error does not end the
    batch; each command's output and error land between markers."""
    lines = []
    for i, c in enumerate(cmds):
        lines += ['script print("@@GS-BEGIN %d@@")' % i, c, 'script print("@@GS-END %d@@")' % i]
    with tempfile.NamedTemporaryFile("w", suffix=".lldb", delete=False) as f:
        f.write("\n".join(lines) + "\n")
        script = f.name
    args = ["lldb", "-b", "-x", "-o", "command script import " + WRAPPER_LLDB,
            "-o", "command source -e false " + script]
    for c in tail:
        args += ["-o", c]
    env = dict(os.environ)
    if os.path.isdir(LLDB_PY):
        env["PYTHONPATH"] = LLDB_PY + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        # lldb embeds Debian's Python; a python3 earlier in PATH (pyenv) would otherwise
        # lend it a foreign standard library.
        env["PYTHONHOME"] = "/usr"
    env.update(env_extra or {})
    try:
        p = subprocess.run(args + target_args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, text=True, timeout=timeout, env=env)
    finally:
        os.unlink(script)
    res = {}
    for i, c in enumerate(cmds):
        b = "\n@@GS-BEGIN %d@@\n(lldb) %s\n" % (i, c)
        e = '(lldb) script print("@@GS-END %d@@")\n' % i
        s = p.stdout.find(b)
        f = p.stdout.find(e, s + len(b)) if s >= 0 else -1
        res[i] = p.stdout[s + len(b):f] if s >= 0 and f >= 0 else None
    return res, p.stdout


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
        cmds.append(('script import grpcscope; print("bias 0x%x" % grpcscope._bias(lldb.debugger.GetSelectedTarget()))', None))
    cmds += [("streams", ["streams"]), ("why-blocked", ["why-blocked"])]
    how = "callbacks" if callbacks else "core"
    env = {"GRPCSCOPE_FORCE_CALLBACKS": "1"} if callbacks else {}
    t0 = time.time()
    res, allout = lldb([c for c, _ in cmds], ["--core", core, exe], env)
    took = time.time() - t0
    if res[0] is None:
        t.fail("%s [lldb %s]: lldb ran no command: %s" % (name, how, allout[-500:]))
        return
    if len(set(res.values())) == 1 and res[0].startswith("error: grpcscope: ") \
            and cli(["goroutines"], d)[0] == 0:
        t.fail("%s [lldb %s]: every command fails where the CLI succeeds: %s"
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
        what = "%s [lldb %s] %s" % (name, how, c)
        if rc == 0:
            t.check(res[i] == out, "%s: equals the CLI%s" % (
                what, "" if res[i] == out else " (%s)" % (
                    first_diff(res[i], out) if res[i] is not None else "no output block")))
        else:
            msg = err.strip().splitlines()[-1] if err.strip() else "?"
            t.check(res[i] is not None and ("error: " + msg) in res[i] and "Traceback" not in res[i],
                    "%s: fails with the CLI's message %r (got %r)"
                    % (what, msg, (res[i] or "").strip()[-200:]))
    print("     %s [lldb %s]: %d commands in %.2fs" % (name, how, len(cmds), took))


def check_errors(t, name, d):
    exe, core = os.path.abspath(os.path.join(d, "exe")), os.path.abspath(os.path.join(d, "core"))
    cmds = ["goroutines --bogus", "goroutine-bt", "grpcscope nosuchcommand"]
    res, _ = lldb(cmds, ["--core", core, exe])
    for i, c in enumerate(cmds):
        r = res[i] or ""
        t.check(r.startswith("error: ") and "Traceback" not in r,
                "%s [lldb] %s: a plain lldb error (%r)" % (name, c, r.strip()[-160:]))
    rc, out, err = cli(["nosuchcommand"], d)
    msg = err.strip().splitlines()[-1].replace("grpcscope: ", "") if err.strip() else "?"
    t.check(msg in (res[2] or ""), "%s [lldb] unknown command passes the library's message %r"
            % (name, msg))


def check_live(t, pair, scen):
    exe = os.path.join(OUT, pair, scen, "exe")
    if not os.path.isfile(exe):
        t.fail("%s/%s: no executable for the live test (%s)" % (pair, scen, exe))
        return
    p, tr = start(exe)
    try:
        t0 = time.time()
        res, allout = lldb(["goroutines --json", "goroutine-bt %d" % tr["goroutines"][0]["id"],
                            "why-blocked --json"], ["-p", str(p.pid)], tail=["process detach"])
        took = time.time() - t0
        what = "%s/%s [lldb -p]" % (pair, scen)
        if res[0] is None:
            t.fail("%s: lldb ran no command: %s" % (what, allout[-500:]))
        else:
            check_live_goroutines(t, what, res[0], tr)
            t.check(res[1] is not None and ("goroutine %d [" % tr["goroutines"][0]["id"]) in res[1]
                    and "runtime.goexit" in res[1],
                    "%s: goroutine-bt prints the stack (%r)" % (what, (res[1] or "")[:160]))
            check_live_verdicts(t, what, res[2], tr)
        time.sleep(0.2)
        t.check(threads_running(p.pid), "%s: every thread runs, untraced, after lldb detached" % what)
        t.check(p.poll() is None, "%s: the scenario process is still alive" % what)
        t.check(answers_http2(p.pid), "%s: its gRPC server still answers a new connection" % what)
        print("     %s: lldb attach + 2 commands + detach in %.2fs" % (what, took))
    finally:
        p.kill()
        p.wait()


def main():
    t = Tally("lldb")
    try:
        ok = subprocess.run(["lldb", "--version"], capture_output=True).returncode == 0
    except OSError:
        ok = False
    if not ok:
        t.fail("lldb is not installed")
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
    t.finish()


if __name__ == "__main__":
    main()
