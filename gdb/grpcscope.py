# grpcscope commands for gdb: `source .../gdb/grpcscope.py`, then
#
#   goroutines [--stacks] [--group] [--status S] [--reason R] [--id N] [--json]
#   goroutine-bt GOID...          the stack of one goroutine (goroutines --stacks --id GOID)
#   streams, stream-state STREAM, why-blocked [GOID...] [--all]
#   grpcscope COMMAND [ARGS]      any command of the library (info, selfcheck, report -o FILE, ...)
#
# A thin front end over libgrpcscope.so: it hands the library the target gdb is debugging
# and prints what the library renders, unchanged, so every command prints what
# `grpcscope COMMAND EXE CORE` prints. A core file is passed by path; a live process or a
# remote target is read through gdb (a read-memory callback plus the threads' registers).
# No analysis happens here. Set GRPCSCOPE_FORCE_CALLBACKS=1 to read a core through gdb too.
import os
import re
import sys

import gdb

sys.path.insert(0, os.path.normpath(os.path.join(os.path.dirname(os.path.realpath(__file__)),
                                                 "..", "python")))
import grpcscope_lib  # noqa: E402  (python/grpcscope_lib.py: the library, shared with lldb)

_gs_lib, _gs_lib_error = grpcscope_lib.LIB, grpcscope_lib.LIB_ERROR
_gs_usage = grpcscope_lib.usage


def _gs_help(cmd, synopsis):
    return grpcscope_lib.help_text(cmd, synopsis, "gdb")


# ---- the target gdb is debugging -------------------------------------------------------------

def _gs_exe():
    name = gdb.current_progspace().filename
    if not name and gdb.objfiles():
        name = gdb.objfiles()[0].filename
    if name and name.startswith("target:"):  # gdbserver without a local sysroot
        name = name[len("target:"):]
    if not name or not os.path.isfile(name):
        raise gdb.GdbError("grpcscope: no local executable file (%s); use the `file` command"
                           % (name or "none loaded"))
    return name


def _gs_core_path():
    """The core file gdb has open, or None (gdb 13 has no Python accessor: `info target`)."""
    inf = gdb.selected_inferior()
    conn = getattr(inf, "connection", None)
    if conn is not None and getattr(conn, "type", "core") != "core":
        return None
    m = re.search(r"Local core dump file:\s*\n\s*`(.*)', file type",
                  gdb.execute("info target", to_string=True))
    return m.group(1) if m and os.path.isfile(m.group(1)) else None


def _gs_elf_entry(path):
    """(is PIE, e_entry) from the ELF header of an x86-64 executable."""
    with open(path, "rb") as f:
        h = f.read(32)
    if len(h) < 32 or h[:4] != b"\x7fELF" or h[4] != 2:
        return False, 0
    return int.from_bytes(h[16:18], "little") == 3, int.from_bytes(h[24:32], "little")


def _gs_bias(exe):
    """The PIE load bias: AT_ENTRY as gdb reads it (core, native or remote) minus e_entry."""
    pie, entry = _gs_elf_entry(exe)
    if not pie:
        return 0
    try:
        m = re.search(r"^\s*9\s+AT_ENTRY\s.*?(0x[0-9a-fA-F]+)\s*$",
                      gdb.execute("info auxv", to_string=True), re.M)
        if m:
            return int(m.group(1), 16) - entry
    except gdb.error:
        pass
    m = re.search(r"Entry point: (0x[0-9a-fA-F]+)", gdb.execute("info target", to_string=True))
    return int(m.group(1), 16) - entry if m else None


def _gs_reg(frame, name):
    try:
        return int(frame.read_register(name)) & 0xFFFFFFFFFFFFFFFF
    except (gdb.error, ValueError):
        return 0


def _gs_threads():
    inf = gdb.selected_inferior()
    orig = gdb.selected_thread()
    try:
        orig_frame = gdb.selected_frame()
    except gdb.error:
        orig_frame = None
    out = []
    try:
        for th in sorted(inf.threads(), key=lambda t: t.num):
            if not th.is_valid() or th.is_running():
                continue
            th.switch()
            f = gdb.newest_frame()
            pid, lwp, tid = th.ptid
            out.append((lwp or tid or pid, _gs_reg(f, "rip"), _gs_reg(f, "rsp"),
                        _gs_reg(f, "rbp"), _gs_reg(f, "fs_base")))
    finally:
        if orig is not None and orig.is_valid():
            orig.switch()
            if orig_frame is not None and orig_frame.is_valid():
                orig_frame.select()
    return out


def _gs_read(inf):
    def read(addr, n):
        try:
            return inf.read_memory(addr, n).tobytes()
        except gdb.MemoryError:
            return None
    return read


# ---- sessions, cached until the target changes ------------------------------------------------

class _GsSession:
    def __init__(self, key, handle, keep):
        self.key, self.handle, self.keep = key, handle, keep
        self.completions = {}


_gs_state = {"session": None, "generation": 0}


def _gs_invalidate(*_args):
    _gs_state["generation"] += 1
    s = _gs_state["session"]
    _gs_state["session"] = None
    if s is not None and _gs_lib is not None:
        _gs_lib.gs_close(s.handle)


for _ev in ("stop", "cont", "exited", "new_objfile", "clear_objfiles", "memory_changed",
            "register_changed", "inferior_call", "new_inferior", "inferior_deleted"):
    if hasattr(gdb.events, _ev):
        getattr(gdb.events, _ev).connect(_gs_invalidate)


def _gs_session(force):
    if _gs_lib is None:
        raise gdb.GdbError(_gs_lib_error)
    inf = gdb.selected_inferior()
    if inf.pid == 0 and _gs_core_path() is None:
        raise gdb.GdbError("grpcscope: no process or core file; run, attach or load a core")
    exe = _gs_exe()
    core = None if os.environ.get("GRPCSCOPE_FORCE_CALLBACKS") else _gs_core_path()
    key = (inf.num, exe, core, bool(force), _gs_state["generation"])
    s = _gs_state["session"]
    if s is not None and s.key == key:
        return s
    _gs_invalidate()
    key = key[:-1] + (_gs_state["generation"],)
    if core:
        h, keep, err = grpcscope_lib.open_target(exe, force, core=core)
    else:
        ths = _gs_threads()
        h, keep, err = grpcscope_lib.open_target(exe, force, read=_gs_read(inf), threads=ths,
                                                 bias=_gs_bias(exe))
    if not h:
        raise gdb.GdbError(err)
    s = _GsSession(key, h, keep)
    _gs_state["session"] = s
    return s


def _gs_run(s, argv):
    """Runs one library command: (status, output, message)."""
    return grpcscope_lib.run(s.handle, argv)


def _gs_execute(argv):
    """Runs argv (argv[0] the command) like the CLI does and prints its output."""
    if "--help" in argv[1:] or "-h" in argv[1:]:
        gdb.write(_gs_usage())
        return
    if "--version" in argv[1:]:
        gdb.write("grpcscope %s\n" % _gs_lib.gs_version().decode())
        return
    force = "--force" in argv[1:]
    argv = [a for a in argv if a != "--force"]
    s = _gs_session(force)
    rc, out, msg = _gs_run(s, argv)
    if out:
        gdb.write(out)
    if rc != 0:
        raise gdb.GdbError("grpcscope: " + (msg or "%s failed (status %d)" % (argv[0], rc)))
    if msg:
        gdb.write("grpcscope: %s\n" % msg, gdb.STDERR)


# ---- completion ------------------------------------------------------------------------------

def _gs_ids(kind):
    """Goroutine or stream ids of the current target, asked once per session."""
    try:
        s = _gs_session(False)
    except Exception:
        return []
    if kind not in s.completions:
        import json
        ids = []
        try:
            if kind == "goroutine":
                rc, out, _ = _gs_run(s, ["goroutines", "--json"])
                if rc == 0:
                    ids = [str(g["id"]) for g in json.loads(out).get("goroutines", [])]
            else:
                rc, out, _ = _gs_run(s, ["streams", "--json"])
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
        s.completions[kind] = sorted(set(ids), key=lambda x: (len(x), x))
    return s.completions[kind]


_GS_OPTIONS = {
    "goroutines": ["--stacks", "--group", "--status", "--reason", "--id", "--json", "--force"],
    "goroutine-bt": ["--json", "--force"],
    "streams": ["--json", "--force"],
    "stream-state": ["--json", "--force"],
    "why-blocked": ["--all", "--dot", "--peer", "--json", "--force"],
    "report": ["-o", "--peer", "--force"],
    "info": ["--json", "--force"],
    "selfcheck": ["--json", "--force"],
}
_GS_STATUSES = ["idle", "runnable", "running", "syscall", "waiting", "dead", "copystack",
                "preempted"]


def _gs_complete(cmd, words, word):
    prev = words[-1] if words else ""
    if prev == "--id" or (cmd in ("why-blocked", "goroutine-bt") and not word.startswith("-")):
        cands = _gs_ids("goroutine")
    elif prev == "--status":
        cands = _GS_STATUSES
    elif prev == "--reason":
        return []
    elif cmd == "stream-state" and not word.startswith("-"):
        cands = _gs_ids("stream")
    else:
        cands = _GS_OPTIONS.get(cmd, ["--json", "--force"])
    return [c for c in cands if c.startswith(word)]


# ---- commands --------------------------------------------------------------------------------

def _gs_split(arg):
    return gdb.string_to_argv(arg) if arg else []


def _gs_words_before(text, word):
    return _gs_split(text[:len(text) - len(word)])


def _gs_bt_args(args):
    """goroutine-bt GOID... -> --id GOID..."""
    if not [a for a in args if not a.startswith("-")]:
        raise gdb.GdbError("usage: goroutine-bt GOID... [--json]")
    out = []
    for a in args:
        out += [a] if a.startswith("-") else ["--id", a]
    return out


def _gs_make(name, libcmd, synopsis, prefix_args=()):
    class _Cmd(gdb.Command):
        __doc__ = _gs_help(libcmd, synopsis)

        def __init__(self):
            super().__init__(name, gdb.COMMAND_DATA)

        def invoke(self, arg, from_tty):
            args = _gs_split(arg)
            if name == "goroutine-bt":
                args = _gs_bt_args(args)
            _gs_execute([libcmd] + list(prefix_args) + args)

        def complete(self, text, word):
            return _gs_complete(name, _gs_words_before(text, word), word)
    _Cmd()


class _GsPrefix(gdb.Command):
    """grpcscope COMMAND [OPTIONS] [ARGS]: runs any grpcscope command over the target gdb is
debugging, e.g. `grpcscope info`, `grpcscope selfcheck`, `grpcscope goroutines --json`.
`grpcscope --help` lists the commands."""

    def __init__(self):
        super().__init__("grpcscope", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        args = _gs_split(arg)
        if not args or args[0] in ("--help", "-h", "help"):
            if _gs_lib is None:
                raise gdb.GdbError(_gs_lib_error)
            gdb.write(_gs_usage())
            return
        if args[0] == "--version":
            args = ["grpcscope", "--version"]
        if args[0] == "goroutine-bt":
            args = ["goroutines", "--stacks"] + _gs_bt_args(args[1:])
        _gs_execute(args)

    def complete(self, text, word):
        words = _gs_words_before(text, word)
        if not words:
            return [c for c in sorted(_GS_OPTIONS) if c.startswith(word)]
        return _gs_complete(words[0], words[1:] or [""], word)


_GsPrefix()
_gs_make("goroutines", "goroutines",
         "goroutines [--stacks] [--group] [--status S] [--reason R] [--id N]... [--json]")
_gs_make("goroutine-bt", "goroutines", "goroutine-bt GOID... [--json]: the stack of a goroutine",
         ("--stacks",))
_gs_make("streams", "streams", "streams [--json]: every gRPC transport with its streams")
_gs_make("stream-state", "stream-state",
         "stream-state STREAM [--json]: one stream in depth (id, TRANSPORT:ID or address)")
_gs_make("why-blocked", "why-blocked",
         "why-blocked [GOID...] [--json]: a verdict for each blocked goroutine")
