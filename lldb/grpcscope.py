# grpcscope commands for lldb: `command script import .../lldb/grpcscope.py`, then
#
#   goroutines [--stacks] [--group] [--status S] [--reason R] [--id N] [--json]
#   goroutine-bt GOID...          the stack of one goroutine (goroutines --stacks --id GOID)
#   streams, stream-state STREAM, why-blocked [GOID...]
#   grpcscope COMMAND [ARGS]      any command of the library (info, selfcheck, ...)
#
# A thin front end over libgrpcscope.so: it hands the library the target lldb is debugging
# and prints what the library renders, unchanged, so every command prints what
# `grpcscope COMMAND EXE CORE` prints. Nothing here depends on a Go type system (lldb has
# none). A core file is passed by path when lldb can tell it; a live process (or a core whose
# path is unknown) is read through lldb: a read-memory callback plus the threads' registers.
# Set GRPCSCOPE_FORCE_CALLBACKS=1 to read a core through lldb too.
import ctypes
import os
import re
import shlex

import lldb

_HERE = os.path.dirname(os.path.realpath(__file__))


# ---- the library ---------------------------------------------------------------------------

class _Thread(ctypes.Structure):
    _fields_ = [("tid", ctypes.c_int64), ("rip", ctypes.c_uint64), ("rsp", ctypes.c_uint64),
                ("rbp", ctypes.c_uint64), ("fs_base", ctypes.c_uint64)]


_READ_FN = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p, ctypes.c_uint64,
                            ctypes.c_void_p, ctypes.c_size_t)


class _Options(ctypes.Structure):
    _fields_ = [("exe", ctypes.c_char_p), ("core", ctypes.c_char_p), ("pid", ctypes.c_int),
                ("force", ctypes.c_int), ("read_memory", _READ_FN),
                ("read_ctx", ctypes.c_void_p), ("threads", ctypes.POINTER(_Thread)),
                ("nthreads", ctypes.c_size_t), ("load_bias_hint", ctypes.c_uint64),
                ("has_bias_hint", ctypes.c_int)]


def _lib_candidates():
    env = os.environ.get("GRPCSCOPE_LIB")
    c = [env] if env else []
    c.append(os.path.join(_HERE, "..", "build", "libgrpcscope.so"))  # the repository
    c.append(os.path.join(_HERE, "..", "..", "..", "lib", "libgrpcscope.so"))  # PREFIX/share/grpcscope/lldb
    return [os.path.normpath(p) for p in c]


def _load_lib():
    tried = []
    for path in _lib_candidates():
        if not os.path.isfile(path):
            tried.append(path)
            continue
        # RTLD_DEEPBIND: the library binds to its own libdwarf even when the host process
        # carries elfutils' libdw, whose dwarf_* functions have the same names.
        lib = ctypes.CDLL(path, mode=os.RTLD_LOCAL | getattr(os, "RTLD_DEEPBIND", 0))
        lib.gs_open.restype = ctypes.c_void_p
        lib.gs_open.argtypes = [ctypes.POINTER(_Options), ctypes.POINTER(ctypes.c_int),
                                ctypes.c_char_p, ctypes.c_size_t]
        lib.gs_command.restype = ctypes.c_int
        lib.gs_command.argtypes = [ctypes.c_void_p, ctypes.c_int,
                                   ctypes.POINTER(ctypes.c_char_p),
                                   ctypes.POINTER(ctypes.c_void_p),
                                   ctypes.POINTER(ctypes.c_void_p)]
        lib.gs_close.argtypes = [ctypes.c_void_p]
        lib.gs_close.restype = None
        lib.gs_free.argtypes = [ctypes.c_void_p]
        lib.gs_free.restype = None
        lib.gs_usage.restype = ctypes.c_char_p
        lib.gs_version.restype = ctypes.c_char_p
        return lib, None
    return None, "grpcscope: libgrpcscope.so not found (looked at %s); set GRPCSCOPE_LIB" % (
        ", ".join(tried))


_lib, _lib_error = _load_lib()


class _Error(Exception):
    pass


def _usage():
    return _lib.gs_usage().decode() if _lib else ""


def _help(cmd, synopsis):
    """Help text: the synopsis and the command's block from the library's usage."""
    lines, block = _usage().splitlines(), []
    for i, l in enumerate(lines):
        if re.match(r"^  %s(\s|$)" % re.escape(cmd), l):
            block.append(l)
            for m in lines[i + 1:]:
                if not m.startswith("    "):
                    break
                block.append(m)
            break
    text = synopsis + "\n"
    if block:
        text += "\n" + "\n".join(block) + "\n"
    return text + "\nThe output is the grpcscope command's, over the target lldb is debugging."


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


def _reader(process):
    page = 4096

    def read(_ctx, addr, dst, n):
        try:
            err = lldb.SBError()
            data = process.ReadMemory(addr, n, err)
            if not err.Success() or data is None or len(data) < n:
                data = b""  # partly readable: the readable prefix, page by page
                while len(data) < n:
                    a = addr + len(data)
                    k = min(n - len(data), page - a % page)
                    err = lldb.SBError()
                    chunk = process.ReadMemory(a, k, err)
                    if not err.Success() or not chunk:
                        break
                    data += chunk[:k]
            ctypes.memmove(dst, data, len(data))
            return len(data)
        except Exception:  # never let an exception cross into C
            return 0
    return _READ_FN(read)


# ---- sessions, cached while the process stays stopped ----------------------------------------

class _Session:
    def __init__(self, key, handle, keep):
        self.key, self.handle, self.keep = key, handle, keep


_state = {"session": None}


def _drop():
    s = _state["session"]
    _state["session"] = None
    if s is not None and _lib is not None:
        _lib.gs_close(s.handle)


def _session(debugger, force):
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
    key = (exe, core, bool(force), process.GetUniqueID(), process.GetProcessID(),
           process.GetStopID(True))
    s = _state["session"]
    if s is not None and s.key == key:
        return s
    _drop()
    o = _Options()
    o.exe = exe.encode()
    o.force = 1 if force else 0
    keep = []
    if core:
        o.core = core.encode()
    else:
        reader = _reader(process)
        ths = _threads(process)
        arr = (_Thread * max(1, len(ths)))(*[_Thread(*t) for t in ths])
        keep = [reader, arr, process]
        o.read_memory = reader
        o.threads = arr
        o.nthreads = len(ths)
        bias = _bias(target)
        if bias is not None:
            o.load_bias_hint = bias & 0xFFFFFFFFFFFFFFFF
            o.has_bias_hint = 1
    status = ctypes.c_int(0)
    err = ctypes.create_string_buffer(1024)
    h = _lib.gs_open(ctypes.byref(o), ctypes.byref(status), err, len(err))
    if not h:
        raise _Error("grpcscope: " + err.value.decode(errors="replace"))
    s = _Session(key, h, keep)
    _state["session"] = s
    return s


def _run(s, argv):
    """Runs one library command: (status, output, message)."""
    a = (ctypes.c_char_p * len(argv))(*[x.encode() for x in argv])
    out, msg = ctypes.c_void_p(), ctypes.c_void_p()
    rc = _lib.gs_command(s.handle, len(argv), a, ctypes.byref(out), ctypes.byref(msg))
    text = ctypes.string_at(out.value).decode(errors="replace") if out.value else ""
    m = ctypes.string_at(msg.value).decode(errors="replace") if msg.value else ""
    _lib.gs_free(out)
    _lib.gs_free(msg)
    return rc, text, m


def _execute(debugger, argv, result):
    """Runs argv (argv[0] the command) like the CLI does; output and errors into result."""
    try:
        if "--help" in argv[1:] or "-h" in argv[1:]:
            if _lib is None:
                raise _Error(_lib_error)
            result.Print(_usage())
            return
        if "--version" in argv[1:]:
            result.Print("grpcscope %s\n" % _lib.gs_version().decode())
            return
        force = "--force" in argv[1:]
        argv = [a for a in argv if a != "--force"]
        s = _session(debugger, force)
        rc, out, msg = _run(s, argv)
    except _Error as e:
        result.SetError(str(e))
        return
    if out:
        result.Print(out)
    if rc != 0:
        result.SetError("grpcscope: " + (msg or "%s failed (status %d)" % (argv[0], rc)))
    elif msg:
        result.AppendWarning("grpcscope: " + msg)


def _split(command):
    try:
        return shlex.split(command or "")
    except ValueError as e:
        raise _Error("grpcscope: %s" % e)


def _bt_args(args):
    """goroutine-bt GOID... -> --id GOID..."""
    if not [a for a in args if not a.startswith("-")]:
        raise _Error("usage: goroutine-bt GOID... [--json]")
    out = []
    for a in args:
        out += [a] if a.startswith("-") else ["--id", a]
    return out


def _command(libcmd, bt=False):
    def fn(debugger, command, result, internal_dict):
        try:
            args = _split(command)
            if bt:
                args = ["--stacks"] + _bt_args(args)
        except _Error as e:
            result.SetError(str(e))
            return
        _execute(debugger, [libcmd] + args, result)
    return fn


def grpcscope(debugger, command, result, internal_dict):
    """grpcscope COMMAND [OPTIONS] [ARGS]: runs any grpcscope command over the target lldb is
debugging, e.g. `grpcscope info`, `grpcscope selfcheck`, `grpcscope goroutines --json`.
`grpcscope --help` lists the commands."""
    try:
        args = _split(command)
        if not args or args[0] in ("--help", "-h", "help"):
            args = ["grpcscope", "--help"]
        elif args[0] == "--version":
            args = ["grpcscope", "--version"]
        elif args[0] == "goroutine-bt":
            args = ["goroutines", "--stacks"] + _bt_args(args[1:])
    except _Error as e:
        result.SetError(str(e))
        return
    _execute(debugger, args, result)


goroutines = _command("goroutines")
goroutines.__doc__ = _help(
    "goroutines", "goroutines [--stacks] [--group] [--status S] [--reason R] [--id N]... [--json]")
goroutine_bt = _command("goroutines", bt=True)
goroutine_bt.__doc__ = _help("goroutines", "goroutine-bt GOID... [--json]: the stack of a goroutine")
streams = _command("streams")
streams.__doc__ = _help("streams", "streams [--json]: every gRPC transport with its streams")
stream_state = _command("stream-state")
stream_state.__doc__ = _help(
    "stream-state", "stream-state STREAM [--json]: one stream in depth (id, TRANSPORT:ID or address)")
why_blocked = _command("why-blocked")
why_blocked.__doc__ = _help(
    "why-blocked", "why-blocked [GOID...] [--json]: a verdict for each blocked goroutine")

_COMMANDS = [("grpcscope", "grpcscope"), ("goroutines", "goroutines"),
             ("goroutine-bt", "goroutine_bt"), ("streams", "streams"),
             ("stream-state", "stream_state"), ("why-blocked", "why_blocked")]


def __lldb_init_module(debugger, internal_dict):
    for name, fn in _COMMANDS:
        debugger.HandleCommand("command script add -o -f %s.%s %s" % (__name__, fn, name))
