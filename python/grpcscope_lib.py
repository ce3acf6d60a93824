# What the gdb and lldb wrappers (gdb/grpcscope.py, lldb/grpcscope.py) share, none of it
# debugger-specific: the C structures of grpcscope.h, finding and loading libgrpcscope.so,
# the usage and help texts, the read-memory callback, and opening a target and running one
# command through the library.
# No analysis happens here either. Each wrapper puts <its own dir>/../python on sys.path.
import ctypes
import os
import re

_HERE = os.path.dirname(os.path.realpath(__file__))


# ---- the library ---------------------------------------------------------------------------

class Thread(ctypes.Structure):
    _fields_ = [("tid", ctypes.c_int64), ("rip", ctypes.c_uint64), ("rsp", ctypes.c_uint64),
                ("rbp", ctypes.c_uint64), ("fs_base", ctypes.c_uint64)]


READ_FN = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p, ctypes.c_uint64,
                           ctypes.c_void_p, ctypes.c_size_t)


class Options(ctypes.Structure):
    _fields_ = [("exe", ctypes.c_char_p), ("core", ctypes.c_char_p), ("pid", ctypes.c_int),
                ("force", ctypes.c_int), ("read_memory", READ_FN),
                ("read_ctx", ctypes.c_void_p), ("threads", ctypes.POINTER(Thread)),
                ("nthreads", ctypes.c_size_t), ("load_bias_hint", ctypes.c_uint64),
                ("has_bias_hint", ctypes.c_int), ("want_grpc", ctypes.c_int),
                ("progress", ctypes.c_void_p), ("progress_ctx", ctypes.c_void_p)]


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
        lib.gs_open.restype = ctypes.c_void_p
        lib.gs_open.argtypes = [ctypes.POINTER(Options), ctypes.POINTER(ctypes.c_int),
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


LIB, LIB_ERROR = load_lib()


def usage():
    return LIB.gs_usage().decode() if LIB else ""


def help_text(cmd, synopsis, debugger):
    """Help text: the synopsis and the command's block from the library's usage."""
    lines, block = usage().splitlines(), []
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
    return text + "\nThe output is the grpcscope command's, over the target %s is debugging." % debugger


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


def open_target(exe, force, core=None, read=None, threads=(), bias=None):
    """gs_open over a core file (by path) or over the debugger: read(addr, n) as for reader(),
    threads [(tid, rip, rsp, rbp, fs_base)], bias the PIE load bias (None: unknown).
    Returns (handle, what must stay alive while it is open, None) or (None, [], message)."""
    o = Options()
    o.exe = exe.encode()
    o.force = 1 if force else 0
    keep = []
    if core:
        o.core = core.encode()
    else:
        fn = reader(read)
        arr = (Thread * max(1, len(threads)))(*[Thread(*t) for t in threads])
        keep = [fn, arr]
        o.read_memory = fn
        o.threads = arr
        o.nthreads = len(threads)
        if bias is not None:
            o.load_bias_hint = bias & 0xFFFFFFFFFFFFFFFF
            o.has_bias_hint = 1
    status = ctypes.c_int(0)
    err = ctypes.create_string_buffer(1024)
    h = LIB.gs_open(ctypes.byref(o), ctypes.byref(status), err, len(err))
    if not h:
        return None, [], "grpcscope: " + err.value.decode(errors="replace")
    return h, keep, None


def run(handle, argv):
    """Runs one library command: (status, output, message)."""
    a = (ctypes.c_char_p * len(argv))(*[x.encode() for x in argv])
    out, msg = ctypes.c_void_p(), ctypes.c_void_p()
    rc = LIB.gs_command(handle, len(argv), a, ctypes.byref(out), ctypes.byref(msg))
    text = ctypes.string_at(out.value).decode(errors="replace") if out.value else ""
    m = ctypes.string_at(msg.value).decode(errors="replace") if msg.value else ""
    LIB.gs_free(out)
    LIB.gs_free(msg)
    return rc, text, m
