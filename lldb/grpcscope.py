# grpcscope commands for lldb: `command script import .../lldb/grpcscope.py`, then
#
#   goroutines [--stacks] [--group] [--status S] [--reason R] [--id N] [--json]
#   goroutine-bt GOID...          the stack of one goroutine (goroutines --stacks --id GOID)
#   streams, stream-state STREAM, why-blocked [GOID...] [--all]
#   grpcscope COMMAND [ARGS]      any command of the library (info, selfcheck, help,
#                                 report -o FILE, ...)
#   grpcscope-complete LINE       what completes LINE's last word (commands, options, ids)
#
# Lines are parsed, and completed, by the library's grammar: the options are the CLI's,
# minus those that choose the target (EXE, CORE, --pid). lldb 14 (Debian 12) gives Python
# commands no completion hook: lldb completes the command names, grpcscope-complete the
# rest.
#
# A thin front end over libgrpcscope.so: it hands the library the target lldb is debugging
# and prints what the library renders, unchanged, so every command prints what
# `grpcscope COMMAND EXE CORE` prints. Nothing here depends on a Go type system (lldb has
# none). A core file is passed by path when lldb can tell it; a live process (or a core whose
# path is unknown) is read through lldb: a read-memory callback plus the threads' registers.
# Set GRPCSCOPE_FORCE_CALLBACKS=1 to read a core through lldb too.
import os
import shlex
import sys

import lldb

sys.path.insert(0, os.path.normpath(os.path.join(os.path.dirname(os.path.realpath(__file__)),
                                                 "..", "python")))
import grpcscope_lib  # noqa: E402  (python/grpcscope_lib.py: the library, shared with gdb)

_lib, _lib_error = grpcscope_lib.LIB, grpcscope_lib.LIB_ERROR
_usage = grpcscope_lib.usage


class _Error(Exception):
    pass


# ---- the target lldb is debugging ------------------------------------------------------------

def _exe(target):
    f = target.GetExecutable()
    name = f.fullpath if f and f.IsValid() else None
    if not name or not os.path.isfile(name):
        raise _Error("grpcscope: no local executable file (%s)" % (name or "none loaded"))
    return name


def _is_core_file(path):
    try:
        with open(path, "rb") as f:
            h = f.read(18)
        return len(h) == 18 and h[:4] == b"\x7fELF" and int.from_bytes(h[16:18], "little") == 4
    except OSError:
        return False


def _core_path(process):
    """The core file lldb has open, or None. lldb 14 has no SBProcess.GetCoreFile: the core
    is the one ELF core file lldb has mapped into its own memory."""
    if process.GetPluginName() != "elf-core":
        return None
    get = getattr(process, "GetCoreFile", None)
    if get is not None:
        f = get()
        if f and f.IsValid() and os.path.isfile(f.fullpath):
            return f.fullpath
    found = set()
    try:
        with open("/proc/self/maps") as m:
            for line in m:
                parts = line.split(None, 5)
                if len(parts) == 6 and parts[5].startswith("/"):
                    p = parts[5].rstrip("\n")
                    if p not in found and not p.endswith(" (deleted)") and _is_core_file(p):
                        found.add(p)
    except OSError:
        return None
    return found.pop() if len(found) == 1 else None


def _bias(target):
    """The PIE load bias: where lldb loaded the entry point minus its file address."""
    m = target.GetModuleAtIndex(0)
    if not m or not m.IsValid():
        return None
    a = m.GetObjectFileEntryPointAddress()
    if not a or not a.IsValid():
        return None
    load = a.GetLoadAddress(target)
    if load == lldb.LLDB_INVALID_ADDRESS:
        return None
    return load - a.GetFileAddress()


def _threads(process):
    out = []
    for th in process:
        f = th.GetFrameAtIndex(0)
        regs = []
        for name in ("rip", "rsp", "rbp", "fs_base"):
            r = f.FindRegister(name) if f and f.IsValid() else None
            regs.append(r.GetValueAsUnsigned(0) if r and r.IsValid() else 0)
        out.append((th.GetThreadID(),) + tuple(regs))
    return out


def _read(process):
    def read(addr, n):
        err = lldb.SBError()
        data = process.ReadMemory(addr, n, err)
        return data if err.Success() else None
    return read


# ---- sessions, cached while the process stays stopped ----------------------------------------

class _Session:
    def __init__(self, key, handle, keep):
        self.key, self.handle, self.keep = key, handle, keep


_state = {"session": None}


def _drop():
    s = _state["session"]
    _state["session"] = None
    if s is not None and _lib is not None:
        grpcscope_lib.close(s.handle, s.keep)


def _session(debugger, line):
    """The session over lldb's target, opened with the line's --force and debug-info options."""
    if _lib is None:
        raise _Error(_lib_error)
    target = debugger.GetSelectedTarget()
    if not target or not target.IsValid():
        raise _Error("grpcscope: no target; create one with a core or attach to a process")
    process = target.GetProcess()
    if not process or not process.IsValid():
        raise _Error("grpcscope: no process or core file; run, attach or load a core")
    if process.GetState() not in (lldb.eStateStopped, lldb.eStateSuspended, lldb.eStateCrashed):
        raise _Error("grpcscope: the process is running; stop it first")
    exe = _exe(target)
    core = None if os.environ.get("GRPCSCOPE_FORCE_CALLBACKS") else _core_path(process)
    key = (exe, core, line.open_key, process.GetUniqueID(), process.GetProcessID(),
           process.GetStopID(True))
    s = _state["session"]
    if s is not None and s.key == key:
        return s
    _drop()
    if core:
        h, keep, err = grpcscope_lib.open_target(exe, line, core=core)
    else:
        h, keep, err = grpcscope_lib.open_target(exe, line, read=_read(process),
                                                 threads=_threads(process), bias=_bias(target))
        keep.append(process)
    if not h:
        raise _Error(err)
    s = _Session(key, h, keep)
    _state["session"] = s
    return s


def _run(s, argv):
    """Runs one library command: (status, output, message)."""
    return grpcscope_lib.run(s.handle, argv)


def _execute(debugger, words, result):
    """Runs a typed line (words[0] the command) like the CLI does; output and errors into
    result."""
    try:
        if _lib is None:
            raise _Error(_lib_error)
        line = grpcscope_lib.Line(words)
        if line.error:
            raise _Error(line.error)
        if line.help is not None:
            result.Print(grpcscope_lib.help_text(line.help, "lldb") + "\n" if line.help
                         else _usage())
            return
        if line.version:
            result.Print("grpcscope %s\n" % grpcscope_lib.version())
            return
        s = _session(debugger, line)
        rc, out, msg = _run(s, line.argv)
    except _Error as e:
        result.SetError(str(e))
        return
    if out:
        result.Print(out)
    if rc != 0:
        result.SetError("grpcscope: " + (msg or "%s failed (status %d)" % (line.argv[0], rc)))
    elif msg:
        result.AppendWarning("grpcscope: " + msg)


def _split(command):
    try:
        return shlex.split(command or "")
    except ValueError as e:
        raise _Error("grpcscope: %s" % e)


def _command(name):
    def fn(debugger, command, result, internal_dict):
        try:
            args = _split(command)
        except _Error as e:
            result.SetError(str(e))
            return
        _execute(debugger, [name] + args, result)
    fn.__doc__ = grpcscope_lib.help_text(name, "lldb") if _lib else name
    return fn


def grpcscope(debugger, command, result, internal_dict):
    """grpcscope COMMAND [OPTIONS] [ARGS]: runs any grpcscope command over the target lldb is
debugging, e.g. `grpcscope info`, `grpcscope selfcheck`, `grpcscope goroutines --json`.
`grpcscope help` lists the commands, `grpcscope help COMMAND` explains one."""
    try:
        args = _split(command)
    except _Error as e:
        result.SetError(str(e))
        return
    if not args:
        if _lib is None:
            result.SetError(_lib_error)
        else:
            result.Print(_usage())
        return
    _execute(debugger, args, result)


def _ids(debugger):
    def ids(kind):
        try:
            s = _session(debugger, grpcscope_lib.Line(["info"]))
        except Exception:
            return []
        return grpcscope_lib.session_ids(s.handle, kind)
    return ids


def complete_line(debugger, command):
    """Candidates for the last word of command (a line as typed after `grpcscope`, or a
    line starting with one of the wrapper's own commands)."""
    try:
        words = shlex.split(command or "")
    except ValueError:
        words = (command or "").split()
    cur = "" if not command or command[-1].isspace() else (words.pop() if words else "")
    if words and words[0] == "grpcscope":
        words = words[1:]
    return grpcscope_lib.complete(words, cur, _ids(debugger))


def grpcscope_complete(debugger, command, result, internal_dict):
    """grpcscope-complete LINE: what completes the last word of LINE (end LINE with a space
for the next word), e.g. `grpcscope-complete why-blocked --`. lldb 14 has no completion
hook for Python commands: this is the grammar's completion, one candidate per line."""
    for c in complete_line(debugger, command):
        result.Print(c + "\n")


goroutines = _command("goroutines")
goroutine_bt = _command("goroutine-bt")
streams = _command("streams")
stream_state = _command("stream-state")
why_blocked = _command("why-blocked")

_COMMANDS = [("grpcscope", "grpcscope"), ("goroutines", "goroutines"),
             ("goroutine-bt", "goroutine_bt"), ("streams", "streams"),
             ("stream-state", "stream_state"), ("why-blocked", "why_blocked"),
             ("grpcscope-complete", "grpcscope_complete")]


def __lldb_init_module(debugger, internal_dict):
    for name, fn in _COMMANDS:
        debugger.HandleCommand("command script add -o -f %s.%s %s" % (__name__, fn, name))
