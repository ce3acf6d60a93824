# What the gdb and lldb wrappers (gdb/grpcscope.py, lldb/grpcscope.py) share, none of it
# debugger-specific: finding and loading libgrpcscope.so (through functions only: no C
# struct is copied here), parsing a typed line with the library's grammar, the help texts,
# completion, the read-memory callback, and opening a target and running one command.
# No analysis happens here either. Each wrapper puts <its own dir>/../python on sys.path.
import ctypes
import os

_HERE = os.path.dirname(os.path.realpath(__file__))


# ---- the library ---------------------------------------------------------------------------

READ_FN = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p, ctypes.c_uint64,
                           ctypes.c_void_p, ctypes.c_size_t)

GS_LINE_DEBUGGER = 2  # grpcscope.h: a line typed in gdb or lldb (no files, no --pid)

# (name, restype, argtypes) of every function used here: only functions, no struct layout,
# so that a field added to the library's structs cannot break the wrappers.
_VP, _CP, _INT, _SZ, _U64 = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_size_t,
                             ctypes.c_uint64)
_ARGV = ctypes.POINTER(ctypes.c_char_p)
_SIGNATURES = [
    ("gs_options_new", _VP, []),
    ("gs_options_free", None, [_VP]),
    ("gs_options_set", _INT, [_VP, _CP, _CP, ctypes.POINTER(_VP)]),
    ("gs_options_get", _CP, [_VP, _CP]),
    ("gs_options_set_reader", None, [_VP, READ_FN, _VP]),
    ("gs_options_add_thread", _INT, [_VP, ctypes.c_int64, _U64, _U64, _U64, _U64]),
    ("gs_options_set_bias", None, [_VP, _U64]),
    ("gs_open_with", _VP, [_VP, ctypes.POINTER(_INT), _CP, _SZ]),
    ("gs_parse_line", _INT, [_VP, _INT, _ARGV, _INT, ctypes.POINTER(_VP)]),
    ("gs_options_argc", _INT, [_VP]),
    ("gs_options_arg", _CP, [_VP, _INT]),
    ("gs_help", _VP, [_CP]),
    ("gs_complete", _VP, [_INT, _ARGV, _CP, _INT]),
    ("gs_command", _INT, [_VP, _INT, _ARGV, ctypes.POINTER(_VP), ctypes.POINTER(_VP)]),
    ("gs_warnings", _VP, [_VP]),
    ("gs_close", None, [_VP]),
    ("gs_free", None, [_VP]),
    ("gs_usage", _CP, []),
    ("gs_version", _CP, []),
]


def lib_candidates():
    env = os.environ.get("GRPCSCOPE_LIB")
    c = [env] if env else []
    c.append(os.path.join(_HERE, "..", "build", "libgrpcscope.so"))  # the repository
    c.append(os.path.join(_HERE, "..", "..", "..", "lib", "libgrpcscope.so"))  # PREFIX/share/grpcscope/python
    return [os.path.normpath(p) for p in c]


def load_lib():
    """(the loaded library, None) or (None, why not)."""
    tried = []
    for path in lib_candidates():
        if not os.path.isfile(path):
            tried.append(path)
            continue
        # RTLD_DEEPBIND: the library binds to its own libdwarf even when the host process
        # (gdb, lldb) carries elfutils' libdw, whose dwarf_* functions have the same names.
        lib = ctypes.CDLL(path, mode=os.RTLD_LOCAL | getattr(os, "RTLD_DEEPBIND", 0))
        for name, res, args in _SIGNATURES:
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = res, args
        return lib, None
    return None, "grpcscope: libgrpcscope.so not found (looked at %s); set GRPCSCOPE_LIB" % (
        ", ".join(tried))


LIB, LIB_ERROR = load_lib()


def _take(p):
    """The library's malloc'd string p as text, freed."""
    if not p:
        return ""
    text = ctypes.string_at(p).decode(errors="replace")
    LIB.gs_free(p)
    return text


def _argv(words):
    return (ctypes.c_char_p * max(1, len(words)))(*[w.encode() for w in words])


def usage():
    return LIB.gs_usage().decode() if LIB else ""


def version():
    return LIB.gs_version().decode()


def command_help(cmd):
    """The library's usage of one command ("" or None: all of them)."""
    return _take(LIB.gs_help(cmd.encode() if cmd else None)) if LIB else ""


def help_text(cmd, debugger):
    """Help of a debugger command: its one-line summary (what the debugger's command list
    shows), then the library's usage of cmd, inside the debugger."""
    usage_ = command_help(cmd)
    summary = next((" ".join(l.split()) for l in usage_.splitlines()
                    if l.startswith("  " + cmd)), cmd)
    return (summary + "\n\n" + usage_ + "\nInside %s, the target is the one %s is debugging: "
            "no EXE, CORE, --pid or --timeout." % (debugger, debugger))


class Line:
    """A line typed in the debugger, parsed by the library's grammar (the CLI's own):
    error (a message) or help (None, "" for every command, or a command), version, and
    argv, the command's words for the library."""

    def __init__(self, words):
        self.opts = LIB.gs_options_new()
        err = ctypes.c_void_p()
        rc = LIB.gs_parse_line(self.opts, len(words), _argv(words), GS_LINE_DEBUGGER,
                               ctypes.byref(err))
        self.error = "grpcscope: " + _take(err.value) if rc else None
        self.help = self.get("help")
        self.version = self.get("version") is not None
        self.argv = [LIB.gs_options_arg(self.opts, i).decode()
                     for i in range(LIB.gs_options_argc(self.opts))]
        # what opening the target depends on (a session is reused while it is the same)
        self.open_key = tuple(self.get(k) for k in ("force", "debug-file", "debug-dirs"))

    def get(self, name):
        v = LIB.gs_options_get(self.opts, name.encode())
        return v.decode(errors="replace") if v is not None else None

    def __del__(self):
        if LIB is not None and getattr(self, "opts", None):
            LIB.gs_options_free(self.opts)
            self.opts = None


PAGE = 4096


def reader(read):
    """The read-memory callback over read(addr, n): the bytes (maybe fewer than n), or None
    when the debugger cannot read them. A partly readable range gives its readable prefix,
    read page by page."""
    def cb(_ctx, addr, dst, n):
        try:
            data = read(addr, n)
            if data is None or len(data) < n:
                data = b""  # partly readable: the readable prefix, page by page
                while len(data) < n:
                    a = addr + len(data)
                    k = min(n - len(data), PAGE - a % PAGE)
                    chunk = read(a, k)
                    if not chunk:
                        break
                    data += chunk[:k]
            ctypes.memmove(dst, data, len(data))
            return len(data)
        except Exception:  # never let an exception cross into C
            return 0
    return READ_FN(cb)


def open_target(exe, line, core=None, read=None, threads=(), bias=None):
    """gs_open_with over a core file (by path) or over the debugger: read(addr, n) as for
    reader(), threads [(tid, rip, rsp, rbp, fs_base)], bias the PIE load bias (None:
    unknown); --force and the debug-info options as line (a Line) gives them.
    Returns (handle, what must stay alive while it is open, None) or (None, [], message)."""
    o = LIB.gs_options_new()
    keep = [o]
    err = ctypes.c_void_p()

    def set_(name, value):
        if LIB.gs_options_set(o, name.encode(), value.encode(), ctypes.byref(err)) != 0:
            raise ValueError(_take(err.value))
    try:
        set_("exe", exe)
        if line.get("force"):
            set_("force", "1")
        if line.get("debug-file"):
            set_("debug-file", line.get("debug-file"))
        for d in (line.get("debug-dirs") or "").split(":"):
            if d:
                set_("debug-dir", d)
        if core:
            set_("core", core)
        else:
            fn = reader(read)
            keep.append(fn)
            LIB.gs_options_set_reader(o, fn, None)
            for t in threads:
                LIB.gs_options_add_thread(o, *t)
            if bias is not None:
                LIB.gs_options_set_bias(o, bias & 0xFFFFFFFFFFFFFFFF)
    except ValueError as e:
        LIB.gs_options_free(o)
        return None, [], "grpcscope: %s" % e
    status = ctypes.c_int(0)
    msg = ctypes.create_string_buffer(1024)
    h = LIB.gs_open_with(o, ctypes.byref(status), msg, len(msg))
    if not h:
        LIB.gs_options_free(o)
        return None, [], "grpcscope: " + msg.value.decode(errors="replace")
    return h, keep, None


def close(handle, keep):
    """Closes what open_target opened."""
    LIB.gs_close(handle)
    LIB.gs_options_free(keep[0])


def run(handle, argv):
    """Runs one library command: (status, output, message)."""
    a = _argv(argv)
    out, msg = ctypes.c_void_p(), ctypes.c_void_p()
    rc = LIB.gs_command(handle, len(argv), a, ctypes.byref(out), ctypes.byref(msg))
    text = ctypes.string_at(out.value).decode(errors="replace") if out.value else ""
    m = ctypes.string_at(msg.value).decode(errors="replace") if msg.value else ""
    LIB.gs_free(out)
    LIB.gs_free(msg)
    # Damage that may make the answer incomplete: said with the message (on stderr).
    w = LIB.gs_warnings(handle)
    if w:
        warn = ctypes.string_at(w).decode(errors="replace").rstrip("\n")
        LIB.gs_free(w)
        m = (m + "\n" + warn) if m else warn
    return rc, text, m


# ---- completion ------------------------------------------------------------------------------

def session_ids(handle, kind):
    """Goroutine ids ("goroutine") or stream specs ("stream") of an open session."""
    import json
    ids = []
    try:
        if kind == "goroutine":
            rc, out, _ = run(handle, ["goroutines", "--json"])
            if rc == 0:
                ids = [str(g["id"]) for g in json.loads(out).get("goroutines", [])]
        else:
            rc, out, _ = run(handle, ["streams", "--json"])
            if rc == 0:
                for t in json.loads(out).get("transports", []):
                    for st in t.get("streams", []):
                        ids.append(str(st["id"]))
                        if t.get("address"):
                            ids.append("%s:%s" % (t["address"], st["id"]))
                        if st.get("address"):
                            ids.append(st["address"])
    except Exception:
        ids = []
    return sorted(set(ids), key=lambda x: (len(x), x))


def _paths(prefix, dirs_only):
    d, base = os.path.split(prefix)
    try:
        names = os.listdir(os.path.expanduser(d) or ".")
    except OSError:
        return []
    out = []
    for n in sorted(names):
        if not n.startswith(base) or (n.startswith(".") and not base.startswith(".")):
            continue
        full = os.path.join(d, n)
        isdir = os.path.isdir(os.path.expanduser(full))
        if isdir:
            out.append(full + "/")
        elif not dirs_only:
            out.append(full)
    return out


def complete(words, current, ids=lambda kind: []):
    """Candidates for the word being typed (current) after words (words[0] the command;
    [] for the command itself), from the library's grammar; ids(kind) gives goroutine ids
    or stream specs of the target, which only the wrapper can ask."""
    if LIB is None:
        return []
    text = _take(LIB.gs_complete(len(words), _argv(words), current.encode(), GS_LINE_DEBUGGER))
    out = []
    for c in text.splitlines():
        if c in (":goroutine", ":stream"):
            out += [x for x in ids(c[1:]) if x.startswith(current)]
        elif c in (":file", ":dir"):
            out += _paths(current, c == ":dir")
        elif not c.startswith(":"):
            out.append(c)
    return out
