"""Shared helpers for integration tests: where the fixture snapshots are, and how to run the
analyser and read delve's goroutine list."""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Real paths: fixtures/out links into the cache, and gdb and lldb name files by their real
# path while the CLI keeps the one it was given; the tests compare the two.
OUT = os.path.realpath(os.environ.get("GS_FIXTURES", os.path.join(ROOT, "fixtures", "out")))
GRPCSCOPE = os.environ.get("GS_BIN", os.path.join(ROOT, "build", "grpcscope"))


def snapshots():
    """Every snapshot dir (pair/scenario) that has exe and core, sorted; FAILED ones too."""
    found = []
    if not os.path.isdir(OUT):
        return found
    for pair in sorted(os.listdir(OUT)):
        pdir = os.path.join(OUT, pair)
        if not os.path.isdir(pdir):
            continue
        for scen in sorted(os.listdir(pdir)):
            d = os.path.join(pdir, scen)
            if os.path.isdir(d) and not scen.endswith("-large"):
                found.append((pair, scen, d))
    return found


def elf_sections(exe):
    """The section names of an executable (readelf, from binutils)."""
    p = subprocess.run(["readelf", "-S", "-W", exe], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("readelf %s: %s" % (exe, p.stderr.strip()))
    return set(re.findall(r"\]\s+(\S+)", p.stdout))


def has_dwarf(exe):
    return bool({".debug_info", ".zdebug_info"} & elf_sections(exe))


def truth(d):
    with open(os.path.join(d, "truth.json")) as f:
        return json.load(f)


def run(args, timeout=120):
    p = subprocess.run([GRPCSCOPE] + args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def run_json(args, timeout=120):
    rc, out, err = run(args + ["--json"], timeout)
    if rc != 0:
        raise RuntimeError("grpcscope %s: exit %d: %s" % (" ".join(args), rc, err.strip()))
    return json.loads(out)


# "  Goroutine 17 - User: /path/file.go:123 pkg.fn (0x4a1b2c) [chan receive]" plus,
# in newer delve, extra annotations after the bracket or a thread marker.
_DLV = re.compile(r"^[ *]*Goroutine (\d+) - User: (.*?):(\d+) (\S+) \(0x[0-9a-f]+\)(.*)$")


def delve_goroutines(d):
    """{goid: {"file", "line", "function", "reason"}} from delve's saved listing."""
    res = {}
    path = os.path.join(d, "dlv-goroutines.txt")
    with open(path, errors="replace") as f:
        for line in f:
            m = _DLV.match(line.rstrip("\n"))
            if not m:
                continue
            rest = m.group(5)
            reason = ""
            b = re.search(r"\[(.*?)\]", rest)
            if b:
                reason = b.group(1)
                # delve appends the wait time ("[chan receive 3m]") in some versions
                reason = re.sub(r"\s+\d+(\.\d+)?[hms]+$", "", reason)
                # delve 1.20 appends the raw waitsince nanotime ("[select 975017615054]")
                reason = re.sub(r"\s+\d{6,}$", "", reason)
            res[int(m.group(1))] = {"file": m.group(2), "line": int(m.group(3)),
                                    "function": m.group(4), "reason": reason,
                                    "thread": "(thread" in rest}
    return res


# The Go runtime's SIGQUIT dump (GOTRACEBACK=system), taken right after gcore:
#   "goroutine 18 gp=0xc000102a80 m=nil [select, 2 minutes]:" (no gp=/m= before Go 1.23),
# then per frame a "pkg.fn(args)" line ("(...)" for an inlined frame) and a "\tfile:line" line.
# With GODEBUG=tracebacklabels=1 the pprof labels are printed too: Go 1.26 inside the
# brackets ("[select labels:{\"k\": \"v\"}]:"), 1.27 after them ("[select] {k: v, \"k-2\":
# \"v 2\"}:"); a goroutine the GC found leaked says so in them ("[chan receive (leaked)]").
_RT_HEAD = re.compile(r"^goroutine (\d+)(?: gp=\S+)?(?: m=\S+)?(?: mp=\S+)? \[([^\]]*)\](?: \{(.*)\})?:$")
_RT_LABEL = re.compile(r'\s*("(?:[^"\\]|\\.)*"|[^:,"\s]*): ("(?:[^"\\]|\\.)*"|[^,"\s]*)\s*(?:,|$)')


def runtime_labels(text):
    """{key: value} from the labels part of a runtime dump header: bare words, or Go-quoted
    strings where a key or value needs quoting (read as JSON: the labels here are ASCII)."""
    out, pos = {}, 0
    while text and pos < len(text):
        m = _RT_LABEL.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError("runtime dump labels: cannot read %r" % text[pos:])
        k, v = (json.loads(x) if x.startswith('"') else x for x in (m.group(1), m.group(2)))
        out[k] = v
        pos = m.end()
    return out
_RT_FILE = re.compile(r"^\t(.*):(\d+)(?: |$)")
# Header words that are a status, not a wait reason (a waiting goroutine without a reason
# shows "waiting").
_RT_STATUS = {"idle", "runnable", "running", "syscall", "waiting", "dead", "copystack"}


def _user_frame(frames):
    """Delve's "User" rule (fixtures/README.md): the first physical frame not in the private
    runtime nor internal/; without one, the innermost physical frame."""
    def user(name):
        if "." not in name or name.startswith(("internal/", "runtime/internal")):
            return False
        if name.startswith("runtime."):
            rest = name[len("runtime."):]
            return rest[:1].isupper()
        return True
    phys = [f for f in frames if not f["inlined"]]
    for f in phys:
        if user(f["function"]):
            return f
    return phys[0] if phys else None


def runtime_goroutines(d):
    """{goid: {"file", "line", "function", "reason", "status"}} from runtime-goroutines.txt,
    in the shape of delve_goroutines (the oracle when delve cannot read the core)."""
    res, cur = {}, None
    with open(os.path.join(d, "runtime-goroutines.txt"), errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = _RT_HEAD.match(line)
            if m:
                head, labels = m.group(2), m.group(3)
                if " labels:{" in head:  # Go 1.26 prints them inside the brackets
                    head, labels = head.split(" labels:{", 1)
                    labels = labels[:-1] if labels.endswith("}") else labels
                word = head.split(", ")[0]
                leaked = word.endswith(" (leaked)")
                word = word[:-len(" (leaked)")] if leaked else word
                cur = {"id": int(m.group(1)), "frames": [],
                       "status": "leaked" if leaked else word if word in _RT_STATUS else "waiting",
                       "reason": "" if word in _RT_STATUS else word,
                       "labels": runtime_labels(labels) if labels else {}}
                if cur["id"] != 0:  # 0: the thread that took the signal
                    res[cur["id"]] = cur
                continue
            if cur is None or not line or line.startswith("created by ") or line.startswith("..."):
                if not line:
                    cur = None
                continue
            fm = _RT_FILE.match(line)
            if fm:
                if cur["frames"] and cur["frames"][-1]["file"] is None:
                    cur["frames"][-1].update(file=fm.group(1), line=int(fm.group(2)))
                continue
            if line.startswith("\t") or "(" not in line:
                continue
            cur["frames"].append({"function": line[:line.rindex("(")], "inlined": line.endswith("(...)"),
                                  "file": None, "line": 0})
    out = {}
    for gid, g in res.items():
        fr = g["frames"]
        top = _user_frame(fr) or {"function": "", "file": "", "line": 0}
        # Lines that are not comparable: the runtime prints the innermost frame's line from
        # pc-1 (delve and grpcscope from pc), and a frame with inlined calls at its pc at its
        # call site (delve and grpcscope: the innermost inlined call's line).
        i = next((k for k, f in enumerate(fr) if f is top), 0)
        line = None if i == 0 or fr[i - 1]["inlined"] else top["line"]
        out[gid] = {"file": top["file"], "line": line, "function": top["function"],
                    "reason": g["reason"], "status": g["status"], "labels": g["labels"]}
    return out


def goroutine_oracle(d):
    """("delve", list) when delve read the core, else ("runtime dump", list): the Go
    runtime's own dump, for executables without DWARF, which delve cannot read."""
    dlv = delve_goroutines(d)
    forced = os.environ.get("GS_GOROUTINE_ORACLE") == "runtime"  # to try the dump where delve reads
    if (dlv and not forced) or not os.path.exists(os.path.join(d, "runtime-goroutines.txt")):
        return "delve", dlv
    return "runtime dump", runtime_goroutines(d)


def each_snapshot(t, commands):
    """Yields (pair, scenario, dir, name, [JSON of each command]) for every snapshot; an
    incomplete snapshot or a failing command is a failure of its own, and is skipped."""
    snaps = snapshots()
    t.check(len(snaps) > 0, "snapshots exist")
    for pair, scen, d in snaps:
        name = "%s/%s" % (pair, scen)
        exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
        if not os.path.exists(core):
            t.fail("%s: incomplete snapshot" % name)
            continue
        try:
            results = [run_json(c + [exe, core]) for c in commands]
        except Exception as e:  # noqa: BLE001 - any failure is a test failure
            t.fail("%s: %s" % (name, e))
            continue
        yield pair, scen, d, name, results


class Tally:
    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def ok(self, what):
        self.passed += 1
        print("ok   %s" % what)

    def fail(self, what):
        self.failed += 1
        print("FAIL %s" % what)

    def check(self, cond, what):
        (self.ok if cond else self.fail)(what)
        return cond

    def finish(self):
        print("%s: %d passed, %d failed" % (self.name, self.passed, self.failed))
        sys.exit(1 if self.failed else 0)


def woke_after_core(reason):
    """A goroutine the dump shows running or runnable ran in the instant between the core and
    the dump (the process is resumed to take the signal): only its presence is compared."""
    return reason in ("", "running", "runnable")


def runtime_own(function):
    """The runtime's own goroutines (scavenger, sweeper, GC workers, finalizers) may run in
    the moment between a core and the SIGQUIT dump taken after it: their state in the dump is
    not compared, only their presence."""
    return (function or "").startswith("runtime.")
