# grpcscope commands for gdb: `source .../gdb/grpcscope.py`, then
#
#   goroutines [--stacks] [--group] [--status S] [--reason R] [--id N] [--json]
#   goroutine-bt GOID...          the stack of one goroutine (goroutines --stacks --id GOID)
#   streams, stream-state STREAM, why-blocked [GOID...] [--all]
#   grpcscope COMMAND [ARGS]      any command of the library (info, selfcheck, help,
#                                 report -o FILE, ...)
#
# Lines are parsed, and commands and options completed, by the library's grammar: the
# options are the CLI's, minus those that choose the target (EXE, CORE, --pid).
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
        grpcscope_lib.close(s.handle, s.keep)


for _ev in ("stop", "cont", "exited", "new_objfile", "clear_objfiles", "memory_changed",
            "register_changed", "inferior_call", "new_inferior", "inferior_deleted"):
    if hasattr(gdb.events, _ev):
        getattr(gdb.events, _ev).connect(_gs_invalidate)


def _gs_session(line):
    """The session over gdb's target, opened with the line's --force and debug-info options."""
    if _gs_lib is None:
        raise gdb.GdbError(_gs_lib_error)
    inf = gdb.selected_inferior()
    if inf.pid == 0 and _gs_core_path() is None:
        raise gdb.GdbError("grpcscope: no process or core file; run, attach or load a core")
    exe = _gs_exe()
    core = None if os.environ.get("GRPCSCOPE_FORCE_CALLBACKS") else _gs_core_path()
    key = (inf.num, exe, core, line.open_key, _gs_state["generation"])
    s = _gs_state["session"]
    if s is not None and s.key == key:
        return s
    _gs_invalidate()
    key = key[:-1] + (_gs_state["generation"],)
    if core:
        h, keep, err = grpcscope_lib.open_target(exe, line, core=core)
    else:
        ths = _gs_threads()
        h, keep, err = grpcscope_lib.open_target(exe, line, read=_gs_read(inf), threads=ths,
                                                 bias=_gs_bias(exe))
    if not h:
        raise gdb.GdbError(err)
    s = _GsSession(key, h, keep)
    _gs_state["session"] = s
    return s


def _gs_run(s, argv):
    """Runs one library command: (status, output, message)."""
    return grpcscope_lib.run(s.handle, argv)


def _gs_execute(words):
    """Runs a typed line (words[0] the command) like the CLI does and prints its output."""
    if _gs_lib is None:
        raise gdb.GdbError(_gs_lib_error)
    line = grpcscope_lib.Line(words)
    if line.error:
        raise gdb.GdbError(line.error)
    if line.help is not None:
        gdb.write(grpcscope_lib.help_text(line.help, "gdb") + "\n" if line.help else _gs_usage())
        return
    if line.version:
        gdb.write("grpcscope %s\n" % grpcscope_lib.version())
        return
    s = _gs_session(line)
    rc, out, msg = _gs_run(s, line.argv)
    if out:
        gdb.write(out)
    if rc != 0:
        raise gdb.GdbError("grpcscope: " + (msg or "%s failed (status %d)" % (line.argv[0], rc)))
    if msg:
        gdb.write("grpcscope: %s\n" % msg, gdb.STDERR)


# ---- completion: the library's grammar, ids from the target ----------------------------------

def _gs_ids(kind):
    """Goroutine ids or stream specs of the current target, asked once per session."""
    try:
        s = _gs_session(grpcscope_lib.Line(["info"]))
    except Exception:
        return []
    if kind not in s.completions:
        s.completions[kind] = grpcscope_lib.session_ids(s.handle, kind)
    return s.completions[kind]


def _gs_complete(words, text, word):
    """gdb replaces `word` (which its word-break characters may start after a '/' or ':')
    by each candidate: the library completes the whole typed word."""
    cur = text[len(text) - len(_gs_last_word(text)):]
    skip = len(cur) - len(word or "")
    return [c[skip:] for c in grpcscope_lib.complete(words, cur, _gs_ids) if skip >= 0]


def _gs_last_word(text):
    return "" if not text or text[-1].isspace() else text.split()[-1]


# ---- commands --------------------------------------------------------------------------------

def _gs_split(arg):
    return gdb.string_to_argv(arg) if arg else []


def _gs_words_before(text):
    w = _gs_last_word(text)
    try:
        return _gs_split(text[:len(text) - len(w)])
    except gdb.error:
        return text.split()[:-1] if w else text.split()


def _gs_make(name):
    class _Cmd(gdb.Command):
        __doc__ = grpcscope_lib.help_text(name, "gdb") if _gs_lib else name

        def __init__(self):
            super().__init__(name, gdb.COMMAND_DATA)

        def invoke(self, arg, from_tty):
            _gs_execute([name] + _gs_split(arg))

        def complete(self, text, word):
            return _gs_complete([name] + _gs_words_before(text), text, word)
    _Cmd()


class _GsPrefix(gdb.Command):
    """grpcscope COMMAND [OPTIONS] [ARGS]: runs any grpcscope command over the target gdb is
debugging, e.g. `grpcscope info`, `grpcscope selfcheck`, `grpcscope goroutines --json`.
`grpcscope --help` lists the commands."""

    def __init__(self):
        super().__init__("grpcscope", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        args = _gs_split(arg)
        if not args:
            if _gs_lib is None:
                raise gdb.GdbError(_gs_lib_error)
            gdb.write(_gs_usage())
            return
        _gs_execute(args)

    def complete(self, text, word):
        return _gs_complete(_gs_words_before(text), text, word)


_GsPrefix()
for _name in ("goroutines", "goroutine-bt", "streams", "stream-state", "why-blocked"):
    _gs_make(_name)
