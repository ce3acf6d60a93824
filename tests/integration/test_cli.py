#!/usr/bin/env python3
"""The command line as a user types it, on a real fixture snapshot: one grammar (the
library's) decides what each word is. Each misuse is refused with exit 2, nothing on stdout
and one line on stderr about what was typed; help and version are commands; --json goes
anywhere; goroutine ids come after the files; `--` ends the options; --peer takes one or two
files, told apart by count, never by which files exist."""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import Tally, run, snapshots  # noqa: E402


def pick(snaps, scen, pair):
    for p, s, d in snaps:
        if s == scen and p == pair and os.path.isfile(os.path.join(d, "core")) and \
                not os.path.exists(os.path.join(d, "FAILED")):
            return d
    return None


def refused(t, what, args, *must):
    rc, out, err = run(args, timeout=60)
    lines = err.strip().splitlines()
    t.check(rc == 2 and out == "" and len(lines) == 1 and all(m in lines[0] for m in must),
            "%s -> exit %d, stdout %d bytes, stderr %r (want %r)"
            % (what, rc, len(out), err.strip()[:300], must))


def same(t, what, args, want_args):
    """args gives exactly what want_args gives (exit status and stdout)."""
    a, b = run(args), run(want_args)
    t.check(a[0] == b[0] == 0 and a[1] == b[1] and a[1],
            "%s: same output as `%s` (exit %d/%d)" % (what, " ".join(want_args[:3]), a[0], b[0]))


def main():
    t = Tally("cli")
    snaps = snapshots()
    a = pick(snaps, "peer-silent", "go127-grpc181")
    sp = pick(snaps, "split-peer-silent", "go127-grpc181")
    if not t.check(a is not None and sp is not None,
                   "fixture snapshots go127-grpc181/peer-silent and split-peer-silent exist"):
        t.finish()
    exe, core = os.path.join(a, "exe"), os.path.join(a, "core")
    rc, wj, _ = run(["why-blocked", "--json", exe, core])
    gid = str(json.loads(wj)["verdicts"][0]["goroutine"]) if rc == 0 else "1"

    # Misuse, each answered about what was typed.
    refused(t, "option of another command", ["why-blocked", "--stacks", exe, core],
            "why-blocked: --stacks is an option of goroutines, not of why-blocked")
    refused(t, "option typo", ["goroutines", "--stack", exe, core],
            "unknown option --stack (did you mean --stacks?)")
    refused(t, "unknown option", ["goroutines", "--frobnicate", exe, core],
            "goroutines: unknown option --frobnicate")
    refused(t, "command typo", ["why-blockd", exe, core],
            "unknown command 'why-blockd' (did you mean why-blocked?)")
    refused(t, "unknown command", ["frobnicate", exe, core], "unknown command 'frobnicate'")
    refused(t, "--peer without its file", ["why-blocked", exe, core, "--peer"],
            "--peer needs a core file")
    refused(t, "--peer followed by an option", ["why-blocked", exe, core, "--peer", "--json"],
            "--peer needs a core file, not the option --json")
    refused(t, "--pid without a number", ["goroutines", "--pid", "abc"],
            "--pid needs a process id, not 'abc'")
    refused(t, "--timeout zero", ["info", "--timeout", "0", exe, core],
            "--timeout needs a number of seconds")
    refused(t, "status typo", ["goroutines", "--status", "waitng", exe, core],
            "--status waitng: not a goroutine status (did you mean waiting?)")
    refused(t, "not a status", ["goroutines", "--status", "asleep", exe, core],
            "not a goroutine status (idle, runnable, running")
    refused(t, "--id not a number", ["goroutines", "--id", "x1", exe, core],
            "--id x1: not a goroutine id")
    refused(t, "a value option given twice", ["goroutines", "--reason", "a", "--reason", "b",
                                              exe, core], "--reason given twice")
    refused(t, "stream-state without a stream", ["stream-state", exe, core],
            "stream-state: which stream?")
    refused(t, "stream-state with two", ["stream-state", exe, core, "1", "3"],
            "one stream at a time (1, then 3)")
    refused(t, "info with a goroutine id", ["info", exe, core, "26"],
            "info: takes no goroutine ids or streams (26)")
    refused(t, "goroutine-bt without an id", ["goroutine-bt", exe, core],
            "goroutine-bt: which goroutine?")
    refused(t, "three files", ["info", exe, core, core], "one file too many")
    refused(t, "no snapshot", ["info", "--json"], "no snapshot: give EXE CORE, CORE or --pid PID")
    refused(t, "a command option before the command", ["--stacks", "goroutines", core],
            "--stacks is an option of goroutines: give the command first")
    refused(t, "help for an unknown command", ["help", "why-blockd"],
            "did you mean why-blocked?")
    refused(t, "a typo in a file name names that file", ["info", "/typo/exe", core], "/typo/exe")
    refused(t, "--peer file missing", ["why-blocked", exe, core, "--peer", "/typo/peer.core"],
            "/typo/peer.core: No such file")
    refused(t, "the same snapshot as the primary and as --peer twice",
            ["why-blocked", exe, core, "--peer", core, "--peer", core],
            "give each snapshot once")

    refused(t, "diff with one core", ["diff", core], "diff: give EXE CORE_EARLIER CORE_LATER")
    refused(t, "diff with --pid", ["diff", "--pid", "1", exe],
            "diff: give EXE CORE_EARLIER CORE_LATER")
    refused(t, "diff's later core missing", ["diff", exe, core, "/typo/later.core"],
            "/typo/later.core: No such file")
    same(t, "diff's third file is --later", ["diff", "--json", exe, core, core],
         ["diff", "--json", "--later", core, exe, core])

    # help and version as commands; --help of one command; no arguments: usage, exit 2.
    rc, out, err = run(["help", "why-blocked"])
    t.check(rc == 0 and out.startswith("usage: grpcscope why-blocked [OPTIONS] EXE CORE")
            and "--peer [EXE2] CORE2" in out and "--dot" in out and "--stacks" not in out,
            "help why-blocked prints that command's usage (exit %d)" % rc)
    rc2, out2, _ = run(["why-blocked", "--help"])
    t.check(rc2 == 0 and out2 == out, "why-blocked --help is help why-blocked")
    rc, out, _ = run(["help"])
    rc2, out2, _ = run(["--help"])
    t.check(rc == 0 and out == out2 and all(c in out for c in (
        "info", "goroutines", "goroutine-bt", "streams", "stream-state", "why-blocked",
        "diff", "report", "selfcheck", "--peer", "--debug-dir", "--timeout")),
        "help and --help list every command and option")
    rc, out, _ = run(["version"])
    rc2, out2, _ = run(["--version"])
    t.check(rc == 0 and out == out2 and out.startswith("grpcscope "), "version and --version")
    rc, out, err = run([])
    t.check(rc == 2 and out == "" and err.startswith("usage: "), "no arguments: usage on stderr, exit 2")

    # --json anywhere; ids after the files; `--` ends the options.
    same(t, "--json before the command", ["--json", "goroutines", exe, core],
         ["goroutines", "--json", exe, core])
    same(t, "--json after the files", ["goroutines", exe, core, "--json"],
         ["goroutines", "--json", exe, core])
    same(t, "goroutine id after the files", ["why-blocked", exe, core, gid],
         ["why-blocked", gid, exe, core])
    same(t, "goroutine-bt ID", ["goroutine-bt", exe, core, gid],
         ["goroutines", "--stacks", "--id", gid, exe, core])
    same(t, "--status=VALUE", ["goroutines", "--status=waiting", exe, core],
         ["goroutines", "--status", "waiting", exe, core])
    tmp = tempfile.mkdtemp(prefix="gs-cli-")
    try:
        odd = os.path.join(tmp, "-odd")
        os.mkdir(odd)
        shutil.copyfile(core, os.path.join(odd, "core"))
        os.symlink(os.path.abspath(exe), os.path.join(tmp, "-exe"))
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            same(t, "`--` before file names that start with '-'",
                 ["goroutines", "--json", "--", "-exe", "-odd/core"],
                 ["goroutines", "--json", exe, core])
            refused(t, "without `--` such a name is an option", ["info", "-exe", "-odd/core"],
                    "unknown option -exe")
        finally:
            os.chdir(cwd)
    finally:
        shutil.rmtree(tmp)

    # --peer [EXE2] CORE2, anywhere: by count, the same answer each way.
    sexe, score, speer = (os.path.join(sp, f) for f in ("exe", "core", "peer-core"))
    want = ["why-blocked", "--json", sexe, score, "--peer", sexe, speer]
    rc, wout, err = run(want)
    t.check(rc == 0 and json.loads(wout)["verdicts"],
            "why-blocked EXE CORE --peer EXE2 CORE2 (exit %d: %s)" % (rc, err.strip()[:200]))
    for what, args in (
            ("--peer EXE2 CORE2 EXE CORE", ["why-blocked", "--json", "--peer", sexe, speer, sexe, score]),
            ("--peer CORE2 EXE CORE", ["why-blocked", "--json", "--peer", speer, sexe, score]),
            ("EXE CORE --peer CORE2", ["why-blocked", "--json", sexe, score, "--peer", speer])):
        rc2, out2, err2 = run(args)
        t.check(rc2 == 0 and out2 == wout, "%s: the same verdicts (exit %d: %s)"
                % (what, rc2, err2.strip()[:200]))
    t.finish()


if __name__ == "__main__":
    main()
