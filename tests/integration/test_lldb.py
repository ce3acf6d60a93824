#!/usr/bin/env python3
"""lldb front end (lldb/grpcscope.py): on fixture cores, every command prints exactly what the
CLI prints on the same snapshot — with the core passed by path and through lldb's memory
(GRPCSCOPE_FORCE_CALLBACKS=1, the path a live target takes); library errors come back as
lldb errors; every command and option of the library's grammar completes (grpcscope-complete,
and lldb's own completion for command names); attached to a live scenario, the TRUTH
goroutines are found and the process runs on after lldb detaches. lldb 14's Python module on
Debian 12 needs PYTHONPATH set (below)."""
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


def completions(out, line):
    """grpcscope-complete prints one candidate per line."""
    return {l for l in out.splitlines() if l and not l.startswith("error")}


LLDB = Debugger("lldb", lambda cmds, exe, core, env: lldb(cmds, ["--core", core, exe], env),
                lambda cmds, pid: lldb(cmds, ["-p", str(pid)], tail=["process detach"]),
                'script import grpcscope; print("bias 0x%x" % '
                'grpcscope._bias(lldb.debugger.GetSelectedTarget()))',
                "error: ", lambda r: r.startswith("error: ") and "Traceback" not in r,
                lambda line: "grpcscope-complete " + line, completions)


def check_native_completion(t):
    """lldb's own completion (SBCommandInterpreter.HandleCompletion, what TAB runs) knows the
    wrapper's command names. lldb 14 has no hook for a Python command's options: those come
    from grpcscope-complete (checked with the other completions)."""
    cmd = ('script m = lldb.SBStringList(); lldb.debugger.GetCommandInterpreter()'
           '.HandleCompletion("%s", %d, 0, -1, m); '
           'print(sorted(m.GetStringAtIndex(i) for i in range(m.GetSize())))')
    lines = [("why-bl", "why-blocked"), ("goroutine-", "goroutine-bt"),
             ("grpcscope-c", "grpcscope-complete"), ("stream-s", "stream-state")]
    res, allout = lldb([cmd % (p, len(p)) for p, _ in lines], [])
    for i, (p, want) in enumerate(lines):
        t.check(res[i] is not None and repr(want) in res[i],
                "lldb completes %r to %s (%r)" % (p, want, (res[i] or allout[-200:]).strip()))


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
    check_native_completion(t)
    t.finish()


if __name__ == "__main__":
    main()
