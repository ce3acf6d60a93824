#!/usr/bin/env python3
"""lldb front end (lldb/grpcscope.py): on fixture cores, every command prints exactly what the
CLI prints on the same snapshot — with the core passed by path and through lldb's memory
(GRPCSCOPE_FORCE_CALLBACKS=1, the path a live target takes); library errors come back as
lldb errors; attached to a live scenario, the TRUTH goroutines are found and the process runs
on after lldb detaches. lldb 14's Python module on Debian 12 needs PYTHONPATH set (below)."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import Tally  # noqa: E402
from debuggers import WRAPPER_LLDB, Debugger, check_all  # noqa: E402

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


LLDB = Debugger("lldb", lambda cmds, exe, core, env: lldb(cmds, ["--core", core, exe], env),
                lambda cmds, pid: lldb(cmds, ["-p", str(pid)], tail=["process detach"]),
                'script import grpcscope; print("bias 0x%x" % '
                'grpcscope._bias(lldb.debugger.GetSelectedTarget()))',
                "error: ", lambda r: r.startswith("error: ") and "Traceback" not in r)


def main():
    t = Tally("lldb")
    try:
        ok = subprocess.run(["lldb", "--version"], capture_output=True).returncode == 0
    except OSError:
        ok = False
    if not ok:
        t.fail("lldb is not installed")
        t.finish()
    check_all(t, LLDB)
    t.finish()


if __name__ == "__main__":
    main()
