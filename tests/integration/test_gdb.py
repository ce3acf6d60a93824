#!/usr/bin/env python3
"""gdb front end (gdb/grpcscope.py): on fixture cores, every command prints exactly what the
CLI prints on the same snapshot — through the core path and through gdb's memory
(GRPCSCOPE_FORCE_CALLBACKS=1, the path a live or remote target takes); library errors come
back as gdb errors; `complete` offers every command and option of the library's grammar;
attached to a live scenario, the TRUTH goroutines are found and the process runs on after
gdb detaches."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import OUT, Tally  # noqa: E402
from debuggers import (LIVE, WRAPPER_GDB, Debugger, check_all, check_live_goroutines,  # noqa: E402
                       check_running_after, start)


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


def plain_error(r):
    return r.strip() != "" and "Traceback" not in r and "Python Exception" not in r


def completions(out, line):
    """gdb's `complete LINE` prints each candidate as the whole completed line."""
    head = line[:len(line) - len(line.split(" ")[-1])]
    return {l[len(head):] for l in out.splitlines() if l.startswith(head) and l[len(head):]}


GDB = Debugger("gdb", lambda cmds, exe, core, env: gdb(cmds, [exe, core], env),
               lambda cmds, pid: gdb(cmds, ["-p", str(pid)]),
               'python print("bias 0x%x" % _gs_bias(_gs_exe()))', "", plain_error,
               lambda line: "complete " + line, completions)


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
        check_running_after(t, what, p, "gdbserver")
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
    check_all(t, GDB)
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
