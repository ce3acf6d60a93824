"""Shared helpers for the gdb and lldb wrapper tests: which snapshots they use, running the
CLI for the expected output, starting a live scenario, and checking it runs again; and the
checks both wrappers pass, each driven by a Debugger (how to run that debugger)."""
import json
import os
import subprocess
import time

from snapshots import OUT, ROOT, run, truth

PAIRS = ("go127-grpc181", "go119-grpc133")
SCENARIOS = ("peer-silent", "handler-blocked", "handler-blocked-pie")
LIVE = (("go127-grpc181", "peer-silent"), ("go119-grpc133", "handler-blocked-pie"))


def wanted_snapshots(t):
    """[(name, dir)] of the snapshots the wrapper tests use; a missing one is a FAIL."""
    found = []
    for pair in PAIRS:
        for scen in SCENARIOS:
            d = os.path.join(OUT, pair, scen)
            missing = [f for f in ("exe", "core", "truth.json")
                       if not os.path.isfile(os.path.join(d, f))]
            if missing:
                t.fail("%s/%s: fixture snapshot incomplete (no %s in %s); run "
                       "GS_PAIRS=%s GS_SCENARIOS=%s fixtures/make-snapshots.sh"
                       % (pair, scen, ", ".join(missing), d, pair, scen))
                continue
            found.append(("%s/%s" % (pair, scen), d))
    return found


def cli(args, d):
    """(rc, stdout, stderr) of `grpcscope ARGS EXE CORE` with absolute paths (as debuggers
    report them)."""
    return run(args + [os.path.abspath(os.path.join(d, "exe")),
                       os.path.abspath(os.path.join(d, "core"))])


def truth_ids(d):
    return [g["id"] for g in truth(d)["goroutines"]]


def start(exe):
    """Starts a scenario; returns (Popen, TRUTH dict) once it printed its TRUTH line."""
    p = subprocess.Popen([exe], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        if line.startswith("TRUTH "):
            return p, json.loads(line[6:])
    p.kill()
    p.wait()
    raise RuntimeError("%s did not reach its TRUTH line" % exe)


def threads_running(pid):
    """True when every thread is in a running/sleeping state and none is traced."""
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            st = dict(l.split(":", 1) for l in f if ":" in l)
        if st["State"].strip()[0] in "tT" or st["TracerPid"].strip() != "0":
            return False
    return True


def check_live_goroutines(t, what, out, tr):
    """The TRUTH goroutines are in a `goroutines --json` output with their wait reasons."""
    try:
        ours = {g["id"]: g for g in json.loads(out)["goroutines"]}
    except (ValueError, KeyError) as e:
        t.fail("%s: goroutines --json is not JSON (%s): %r" % (what, e, out[:200]))
        return
    for tg in tr["goroutines"]:
        g = ours.get(tg["id"])
        t.check(g is not None and g["wait_reason"] == tg["wait"],
                "%s: live goroutine %d waits [%s] (TRUTH [%s])"
                % (what, tg["id"], g and g["wait_reason"], tg["wait"]))


def check_live_verdicts(t, what, out, tr):
    """why-blocked --json inside the debugger gives each TRUTH goroutine its verdict."""
    try:
        got = {v["goroutine"]: v for v in json.loads(out)["verdicts"]}
    except (ValueError, KeyError, TypeError) as e:
        t.fail("%s: why-blocked --json is not JSON (%s): %r" % (what, e, (out or "")[:200]))
        return
    for tg in tr["goroutines"]:
        if tg["verdict"] == "none":
            continue
        v = got.get(tg["id"])
        t.check(v is not None and v["verdict"] == tg["verdict"],
                "%s: live goroutine %d is %s (want %s)" % (what, tg["id"], v and v["verdict"], tg["verdict"]))


def listening_ports(pid):
    """TCP ports the process listens on (its sockets' inodes matched in /proc/net/tcp)."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if cols[3] == "0A" and cols[9] in inodes:  # LISTEN
                        ports.append(int(cols[1].rsplit(":", 1)[1], 16))
        except OSError:
            pass
    return ports


def answers_http2(pid, timeout=5.0):
    """The process still serves: its gRPC server answers a new HTTP/2 connection with its
    SETTINGS frame (which only a running Go program sends)."""
    import socket
    for port in listening_ports(pid):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as so:
                so.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]))
                head = b""
                while len(head) < 9:
                    chunk = so.recv(9 - len(head))
                    if not chunk:
                        break
                    head += chunk
                if len(head) == 9 and head[3] == 4:
                    return True
        except OSError:
            continue
    return False


def first_diff(a, b):
    """A short description of where two outputs differ."""
    al, bl = a.splitlines(), b.splitlines()
    for i in range(max(len(al), len(bl))):
        x = al[i] if i < len(al) else "<end>"
        y = bl[i] if i < len(bl) else "<end>"
        if x != y:
            return "line %d: got %r, CLI %r" % (i + 1, x[:120], y[:120])
    return "trailing newline differs" if a != b else "equal"


WRAPPER_GDB = os.path.join(ROOT, "gdb", "grpcscope.py")
WRAPPER_LLDB = os.path.join(ROOT, "lldb", "grpcscope.py")


class Debugger:
    """How the shared checks drive one debugger with its wrapper loaded.
    on_core(cmds, exe, core, env) and on_pid(cmds, pid) run the commands and return
    ({i: text of command i or None}, all output); bias_cmd prints "bias 0x..." (the load-bias
    hint the wrapper hands a callback target); error_prefix starts a command's error in its
    output block; plain_error(text) tells a debugger error without a Python traceback;
    complete_cmd and completions drive completion (check_completion)."""

    def __init__(self, name, on_core, on_pid, bias_cmd, error_prefix, plain_error,
                 complete_cmd=None, completions=None):
        self.name, self.on_core, self.on_pid = name, on_core, on_pid
        self.bias_cmd, self.error_prefix, self.plain_error = bias_cmd, error_prefix, plain_error
        # complete_cmd(line): the debugger command that lists the completions of line;
        # completions(output, line): the set of candidate words in its output
        self.complete_cmd, self.completions = complete_cmd, completions


def compare(t, what, got, want):
    t.check(got == want, "%s: equals the CLI%s"
            % (what, "" if got == want else " (%s)" % (first_diff(got, want) if got is not None
                                                        else "no output block")))


def check_core(t, dbg, name, d, callbacks):
    """Every command through the wrapper prints what the CLI prints on the snapshot (or fails
    with its message), with the core passed by path or read through the debugger."""
    exe, core = os.path.abspath(os.path.join(d, "exe")), os.path.abspath(os.path.join(d, "core"))
    goid = truth_ids(d)[0]
    cmds = [("goroutines", ["goroutines"]),
            ("goroutines --json", ["goroutines", "--json"]),
            ("goroutines --stacks --status waiting", ["goroutines", "--stacks", "--status", "waiting"]),
            ("goroutine-bt %d" % goid, ["goroutines", "--stacks", "--id", str(goid)]),
            ("grpcscope goroutines --group", ["goroutines", "--group"]),
            ("grpcscope selfcheck", ["selfcheck"])]
    if not callbacks:
        cmds.append(("grpcscope info", ["info"]))
        # the PIE bias the wrapper hands a callback target, as the library finds it in the core
        cmds.append((dbg.bias_cmd, None))
    # Not yet in the library everywhere: whatever the CLI says, the wrapper says too.
    cmds += [("streams", ["streams"]), ("why-blocked", ["why-blocked"])]
    how = "callbacks" if callbacks else "core"
    env = {"GRPCSCOPE_FORCE_CALLBACKS": "1"} if callbacks else {}
    t0 = time.time()
    res, allout = dbg.on_core([c for c, _ in cmds], exe, core, env)
    took = time.time() - t0
    if res[0] is None:
        t.fail("%s [%s %s]: %s ran no command: %s" % (name, dbg.name, how, dbg.name, allout[-500:]))
        return
    if len(set(res.values())) == 1 and res[0].startswith(dbg.error_prefix + "grpcscope: ") \
            and cli(["goroutines"], d)[0] == 0:
        t.fail("%s [%s %s]: every command fails where the CLI succeeds: %s"
               % (name, dbg.name, how, res[0].strip()))
        return
    for i, (c, argv) in enumerate(cmds):
        if argv is None:
            rc, out, err = cli(["info", "--json"], d)
            want = "bias %s" % json.loads(out).get("load_bias", "0x0") if rc == 0 else "?"
            t.check(res[i] is not None and res[i].strip() == want,
                    "%s [%s]: the wrapper's load-bias hint %r is the library's %r"
                    % (name, how, (res[i] or "").strip(), want))
            continue
        rc, out, err = cli(argv, d)
        what = "%s [%s %s] %s" % (name, dbg.name, how, c)
        if rc == 0:
            compare(t, what, res[i], out)
        else:
            msg = err.strip().splitlines()[-1] if err.strip() else "?"
            t.check(res[i] is not None and (dbg.error_prefix + msg) in res[i]
                    and "Traceback" not in res[i],
                    "%s: fails with the CLI's message %r (got %r)"
                    % (what, msg, (res[i] or "").strip()[-200:]))
    print("     %s [%s %s]: %d commands in %.2fs" % (name, dbg.name, how, len(cmds), took))


def check_errors(t, dbg, name, d):
    """Bad usage through the wrapper: a debugger error with the library's message, no
    traceback."""
    exe, core = os.path.abspath(os.path.join(d, "exe")), os.path.abspath(os.path.join(d, "core"))
    cmds = ["goroutines --bogus", "goroutine-bt", "grpcscope nosuchcommand"]
    res, _ = dbg.on_core(cmds, exe, core, {})
    for i, c in enumerate(cmds):
        r = res[i] or ""
        t.check(dbg.plain_error(r), "%s [%s] %s: a plain %s error (%r)"
                % (name, dbg.name, c, dbg.name, r.strip()[-160:]))
    rc, out, err = cli(["nosuchcommand"], d)
    msg = err.strip().splitlines()[-1].replace("grpcscope: ", "") if err.strip() else "?"
    t.check(msg in (res[2] or ""), "%s [%s] unknown command passes the library's message %r"
            % (name, dbg.name, msg))


def check_running_after(t, what, p, detached):
    """After the debugger let go: no thread stopped or traced, the process alive and serving."""
    time.sleep(0.2)
    t.check(threads_running(p.pid), "%s: every thread runs, untraced, after %s detached"
            % (what, detached))
    t.check(p.poll() is None, "%s: the scenario process is still alive" % what)
    t.check(answers_http2(p.pid), "%s: its gRPC server still answers a new connection" % what)


def check_live(t, dbg, pair, scen):
    """Attached to a live scenario: the TRUTH goroutines with their waits and verdicts, a
    goroutine's stack, and the process runs on after the debugger detaches."""
    exe = os.path.join(OUT, pair, scen, "exe")
    if not os.path.isfile(exe):
        t.fail("%s/%s: no executable for the live test (%s)" % (pair, scen, exe))
        return
    p, tr = start(exe)
    try:
        t0 = time.time()
        res, allout = dbg.on_pid(["goroutines --json", "goroutine-bt %d" % tr["goroutines"][0]["id"],
                                  "why-blocked --json"], p.pid)
        took = time.time() - t0
        what = "%s/%s [%s -p]" % (pair, scen, dbg.name)
        if res[0] is None:
            t.fail("%s: %s ran no command: %s" % (what, dbg.name, allout[-500:]))
        else:
            check_live_goroutines(t, what, res[0], tr)
            t.check(res[1] is not None and ("goroutine %d [" % tr["goroutines"][0]["id"]) in res[1]
                    and "runtime.goexit" in res[1],
                    "%s: goroutine-bt prints the stack (%r)" % (what, (res[1] or "")[:160]))
            check_live_verdicts(t, what, res[2], tr)
        check_running_after(t, what, p, dbg.name)
        print("     %s: %s attach + 2 commands + detach in %.2fs" % (what, dbg.name, took))
    finally:
        p.kill()
        p.wait()


def check_all(t, dbg):
    """The snapshot, error and live checks of one debugger."""
    snaps = wanted_snapshots(t)
    for name, d in snaps:
        for callbacks in (False, True):
            try:
                check_core(t, dbg, name, d, callbacks)
            except Exception as e:  # a snapshot being regenerated under us, a hung debugger
                t.fail("%s [%s]: %s: %s" % (name, "callbacks" if callbacks else "core",
                                             type(e).__name__, e))
    if snaps:
        check_errors(t, dbg, *snaps[0])
        try:
            check_completion(t, dbg, *snaps[0])
        except Exception as e:
            t.fail("%s [%s completion]: %s: %s" % (snaps[0][0], dbg.name, type(e).__name__, e))
    for pair, scen in LIVE:
        try:
            check_live(t, dbg, pair, scen)
        except Exception as e:
            t.fail("%s/%s [live]: %s: %s" % (pair, scen, type(e).__name__, e))


def grammar_options(cmd):
    """The options of cmd as the library's grammar lists them (`grpcscope help CMD`), less
    those that only the command line has (--pid, --timeout: the debugger owns the target;
    --samples, --interval: sampling resumes the process, which the debugger holds)."""
    rc, out, _ = run(["help", cmd])
    opts = []
    for line in out.splitlines():
        m = line.split()
        if line.startswith("  -") and m:
            opts.append(m[0].rstrip(","))
    return [o for o in opts if o not in ("--pid", "--timeout", "--samples", "--interval")]


def grammar_commands():
    """The commands of the grammar (`grpcscope help`)."""
    rc, out, _ = run(["help"])
    cmds, on = [], False
    for line in out.splitlines():
        if line == "commands:":
            on = True
        elif on and not line.strip():
            break
        elif on and line.startswith("  ") and not line.startswith("   "):
            cmds.append(line.split()[0])
    return cmds


def check_completion(t, dbg, name, d):
    """Every command and option completes in the debugger, from the library's grammar:
    command names, each command's options (why-blocked's --dot and --peer included), every
    goroutine status after --status, and goroutine ids from the target."""
    exe, core = os.path.abspath(os.path.join(d, "exe")), os.path.abspath(os.path.join(d, "core"))
    cmds = grammar_commands()
    lines = ["grpcscope ", "grpcscope why-bl", "goroutines --status ", "why-blocked ",
             "goroutines --id "]
    lines += ["grpcscope %s -" % c for c in cmds]
    lines += ["%s -" % c for c in ("goroutines", "goroutine-bt", "streams", "stream-state",
                                    "why-blocked")]
    lines += ["why-blocked --"]
    res, allout = dbg.on_core([dbg.complete_cmd(l) for l in lines], exe, core, {})
    got = {l: dbg.completions(res[i] or "", l) for i, l in enumerate(lines)}
    what = "%s [%s completion]" % (name, dbg.name)
    t.check(set(cmds) | {"help", "version"} <= got["grpcscope "],
            "%s: `grpcscope ` offers every command (%s)" % (what, sorted(got["grpcscope "])))
    t.check(got["grpcscope why-bl"] == {"why-blocked"},
            "%s: `grpcscope why-bl` -> why-blocked (%s)" % (what, got["grpcscope why-bl"]))
    t.check({"--dot", "--peer", "--json", "--force"} <= got["why-blocked --"],
            "%s: `why-blocked --` offers --dot, --peer, --json, --force (%s)"
            % (what, sorted(got["why-blocked --"])))
    for c in cmds:
        for key in ("grpcscope %s -" % c, "%s -" % c):
            if key not in got:
                continue
            want = set(grammar_options(c))
            t.check(want and want <= got[key] and "--pid" not in got[key],
                    "%s: `%s` offers %s (missing %s)"
                    % (what, key, sorted(want), sorted(want - got[key])))
    statuses = {"idle", "runnable", "running", "syscall", "waiting", "dead", "copystack",
                "preempted", "leaked"}
    t.check(statuses <= got["goroutines --status "],
            "%s: --status offers every status (missing %s)"
            % (what, sorted(statuses - got["goroutines --status "])))
    ids = {str(i) for i in truth_ids(d)}
    t.check(ids and ids <= got["why-blocked "] and ids <= got["goroutines --id "],
            "%s: goroutine ids of the target complete (TRUTH %s)" % (what, sorted(ids)))
