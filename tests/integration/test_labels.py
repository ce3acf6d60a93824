#!/usr/bin/env python3
"""pprof labels and leaked goroutines on the `labels` scenario, on every pair that builds it
(Go 1.19 and 1.22: labelMap is a map; 1.24: a sorted slice; 1.27: label.Set), read with the
executable's DWARF and with a copy stripped by `objcopy --strip-all`:

- `goroutines` (text and JSON) shows each goroutine's labels as the program itself recorded
  them (TRUTH params.labels), the child goroutine inheriting its handler's, and no others;
- the Go runtime's own SIGQUIT dump (labels in its headers on Go 1.26+ with
  GODEBUG=tracebacklabels=1) and delve's `goroutines -l` agree with them;
- `--label KEY[=VALUE]` filters goroutines and why-blocked, `--group label:KEY` groups;
- why-blocked shows the labels of each verdict (text and JSON);
- the goroutine the runtime's leak detection marked (_Gleaked, Go 1.27: TRUTH params.leaked)
  is `leaked` in goroutines and why-blocked; where the runtime cannot mark it, it is not.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import (OUT, ROOT, Tally, has_dwarf, run, run_json, runtime_goroutines,  # noqa: E402
                       truth)

PAIRS = [line.split()[0] for line in open(os.path.join(ROOT, "fixtures", "matrix"))
         if line.strip() and not line.startswith("#") and line.split()[4:5] == ["all"]]
CACHE = os.environ.get("GS_CACHE", "/var/cache/grpcscope")


def delve_path(pair):
    for line in open(os.path.join(ROOT, "fixtures", "matrix")):
        f = line.split()
        if f and f[0] == pair:
            return os.path.join(CACHE, "delve", f[3], "usr", "bin", "dlv")
    return None


_DLV_G = re.compile(r"^[ *]*Goroutine (\d+) - ")
_DLV_L = re.compile(r'"((?:[^"\\]|\\.)*)":"((?:[^"\\]|\\.)*)"')


def delve_labels(pair, d):
    """{goid: {k: v}} from delve's `goroutines -l` (only goroutines that have labels)."""
    dlv = delve_path(pair)
    if not dlv or not os.path.exists(dlv):
        raise RuntimeError("delve for %s not found at %s" % (pair, dlv))
    with tempfile.NamedTemporaryFile("w", suffix=".dlv") as init:
        init.write("goroutines -l\nexit\n")
        init.flush()
        p = subprocess.run([dlv, "core", os.path.join(d, "exe"), os.path.join(d, "core"),
                            "--check-go-version=false", "--allow-non-terminal-interactive=true",
                            "--init", init.name], capture_output=True, text=True, timeout=300,
                           stdin=subprocess.DEVNULL)
    res, cur = {}, None
    for line in p.stdout.splitlines():
        m = _DLV_G.match(line)
        if m:
            cur = int(m.group(1))
        elif cur is not None and line.strip().startswith("Labels:"):
            res[cur] = {json.loads('"%s"' % k): json.loads('"%s"' % v)
                        for k, v in _DLV_L.findall(line)}
    if not re.search(r"Goroutine \d+", p.stdout):
        raise RuntimeError("delve listed no goroutines: %s" % (p.stdout + p.stderr)[-300:])
    return res


def text_labels(lb):
    return ", ".join("%s=%s" % kv for kv in sorted(lb.items()))


def check_pair(t, pair, d, exe, kind):
    name = "%s/labels (%s)" % (pair, kind)
    core = os.path.join(d, "core")
    tr = truth(d)
    want = {int(k): v for k, v in tr["params"]["labels"].items()}
    leaky, leaked = tr["params"]["leaky"], set(tr["params"]["leaked"])
    t.check(len(want) == 6, "%s: TRUTH records 6 labelled goroutines" % name)
    got = run_json(["goroutines", exe, core])
    ours = {g["id"]: g for g in got["goroutines"]}
    mine = {i: g["labels"] for i, g in ours.items() if "labels" in g}
    t.check(mine == want, "%s: goroutines --json labels are TRUTH's (ours %s, TRUTH %s)"
            % (name, mine, want))
    # The handler's child goroutine shares the handler's labels (it inherits the pointer).
    reqb = sorted(i for i, lb in want.items() if lb.get("request_id") == "req-b" and "client" not in lb)
    t.check(len(reqb) == 2 and mine.get(reqb[0]) == mine.get(reqb[1]),
            "%s: the child goroutine inherits its handler's labels (%s)" % (name, reqb))

    rc, out, err = run(["goroutines", exe, core])
    lines = {int(m.group(1)): line for line in out.splitlines()
             for m in [re.match(r"goroutine (\d+) \[", line)] if m}
    bad = [i for i, lb in want.items() if not lines.get(i, "").endswith("  labels: " + text_labels(lb))]
    bad += [i for i, line in lines.items() if i not in want and "  labels: " in line]
    t.check(rc == 0 and not bad, "%s: goroutines text ends each labelled line with its labels, "
            "and only those (wrong: %s)" % (name, bad))

    # --label filters: all of them must hold.
    for filters in (["request_id=req-b"], ["client"], ["request_id=req-b", "client"],
                    ["grpc.method=/grpcscope.test.Echo/Bidi"], ["nosuch"], ["request_id=req-c"]):
        def match(lb):
            return all((f.split("=", 1)[0] in lb) if "=" not in f else
                       lb.get(f.split("=", 1)[0]) == f.split("=", 1)[1] for f in filters)
        exp = sorted(i for i, lb in want.items() if match(lb))
        args = ["goroutines"] + [a for f in filters for a in ("--label", f)]
        sel = sorted(g["id"] for g in run_json(args + [exe, core])["goroutines"])
        t.check(sel == exp, "%s: %s selects %s (want %s)" % (name, " ".join(args[1:]), sel, exp))

    # --group label:KEY: by value, largest first, those without the key last.
    rc, out, err = run(["goroutines", "--group", "label:request_id", exe, core])
    heads = re.findall(r"^(\S.*): (\d+) goroutines?$", out, re.M)
    n_b = sum(1 for lb in want.values() if lb.get("request_id") == "req-b")
    n_a = sum(1 for lb in want.values() if lb.get("request_id") == "req-a")
    n_none = len(ours) - n_a - n_b
    t.check(rc == 0 and heads == [("request_id=req-b", str(n_b)), ("request_id=req-a", str(n_a)),
                                  ("no request_id", str(n_none))],
            "%s: --group label:request_id text groups %s" % (name, heads))
    gj = run_json(["goroutines", "--group=label:request_id", exe, core])
    groups = [(g["value"], sorted(g["goroutines"])) for g in gj.get("groups", [])]
    exp = [("req-b", sorted(i for i, lb in want.items() if lb.get("request_id") == "req-b")),
           ("req-a", sorted(i for i, lb in want.items() if lb.get("request_id") == "req-a")),
           (None, sorted(i for i in ours if want.get(i, {}).get("request_id") is None))]
    t.check(groups == exp, "%s: --group label:request_id JSON groups %s" % (name, groups))

    # why-blocked: each verdict carries its goroutine's labels, text and JSON.
    wb = run_json(["why-blocked", exe, core])
    vl = {v["goroutine"]: v.get("labels") for v in wb["verdicts"]}
    t.check(all(vl[i] == want.get(i) for i in vl),
            "%s: why-blocked JSON labels of every verdict are TRUTH's (%s)" % (name, vl))
    for g in tr["goroutines"]:
        if g["verdict"] != "none":
            t.check(vl.get(g["id"], 0) == want.get(g["id"]),
                    "%s: goroutine %d (%s) has a verdict with its labels" % (name, g["id"], g["role"]))
    rc, out, err = run(["why-blocked", "--all", exe, core])
    blocks = {int(b.split(":")[0]): b for b in re.split(r"^goroutine ", out, flags=re.M)[1:]
              if b.split(":")[0].isdigit()}
    bad = [i for i, b in blocks.items()
           if (("\n  labels: %s\n" % text_labels(want[i])) not in b if i in want else "labels:" in b)]
    t.check(rc == 0 and blocks and not bad, "%s: why-blocked --all text names each verdict's labels (wrong: %s)"
            % (name, bad))
    rc, out, err = run(["why-blocked", exe, core])
    t.check(rc == 0 and "labels of goroutine" in out and "request_id=req-a" in out,
            "%s: grouped why-blocked text names the members' labels" % name)
    ca = next(i for i, lb in want.items() if lb.get("client") == "ca")
    ha = next(g["blames"][0] for g in tr["goroutines"] if g["id"] == ca)
    sel = sorted(v["goroutine"] for v in run_json(["why-blocked", "--label", "client=ca", exe, core])["verdicts"])
    t.check(sel == sorted([ca, ha]), "%s: why-blocked --label client=ca keeps client %d and the "
            "handler its chain reaches %d (%s)" % (name, ca, ha, sel))

    # _Gleaked: where the runtime marked it, and only there.
    lg = ours.get(leaky, {})
    want_status = "leaked" if leaky in leaked else "waiting"
    t.check(lg.get("status") == want_status and lg.get("wait_reason") == "chan receive",
            "%s: leaky goroutine %d is %s [%s] (want %s)" % (name, leaky, lg.get("status"),
                                                          lg.get("wait_reason"), want_status))
    verdict = {v["goroutine"]: v for v in wb["verdicts"]}.get(leaky)
    if leaky in leaked:
        t.check(f"goroutine {leaky} [chan receive (leaked)]" in lines.get(leaky, ""),
                "%s: goroutines text says (leaked)" % name)
        t.check(verdict is not None and verdict["verdict"] == "leaked" and
                any("_Gleaked" in e for e in verdict["evidence"]),
                "%s: why-blocked: goroutine %d is leaked, with the runtime's mark as evidence (%s)"
                % (name, leaky, verdict))
    else:
        t.check(verdict is None, "%s: why-blocked has no verdict for the unmarked leaky goroutine" % name)

    rc, out, err = run(["report", exe, core])
    t.check(rc == 0 and '<ul class="labels mono"><li>goroutine %d: ' % ca in out,
            "%s: report lists labels with the goroutine groups" % name)
    return got, wb


def main():
    t = Tally("labels")
    for pair in PAIRS:
        d = os.path.join(OUT, pair, "labels")
        exe = os.path.join(d, "exe")
        if not t.check(os.path.exists(os.path.join(d, "core")) and not os.path.exists(os.path.join(d, "FAILED")),
                       "%s/labels: snapshot exists (make fixtures)" % pair):
            continue
        try:
            got, wb = check_pair(t, pair, d, exe, "DWARF")
            tmp = tempfile.mkdtemp(prefix="gslabels.")
            try:
                sexe = os.path.join(tmp, "exe")
                subprocess.run(["objcopy", "--strip-all", exe, sexe], check=True)
                t.check(not has_dwarf(sexe), "%s: stripped copy has no DWARF" % pair)
                sgot, swb = check_pair(t, pair, d, sexe, "stripped")
                t.check([g.get("labels") for g in sgot["goroutines"]] == [g.get("labels") for g in got["goroutines"]],
                        "%s: stripped and DWARF goroutines show the same labels" % pair)
                t.check(swb["verdicts"] == wb["verdicts"], "%s: stripped and DWARF why-blocked agree" % pair)
            finally:
                shutil.rmtree(tmp)
            ours = {g["id"]: g.get("labels", {}) for g in got["goroutines"]}
            # The runtime's own dump: Go 1.26+ prints labels (the scenario sets tracebacklabels).
            rt = runtime_goroutines(d)
            if tuple(int(x) for x in truth(d)["go"][4:].split(".")[:2]) >= (26,):
                diff = [i for i in rt if rt[i]["labels"] != ours.get(i, {})]
                t.check(rt and not diff, "%s: the runtime's dump shows the same labels (differ: %s)"
                        % (pair, [(i, rt[i]["labels"], ours.get(i)) for i in diff[:3]]))
                leaked = {i for i in rt if rt[i]["status"] == "leaked"}
                t.check(leaked == set(truth(d)["params"]["leaked"]),
                        "%s: the runtime's dump marks %s leaked" % (pair, sorted(leaked)))
            dl = delve_labels(pair, d)
            t.check(dl == {i: lb for i, lb in ours.items() if lb},
                    "%s: delve's goroutines -l shows the same labels (%d goroutines)" % (pair, len(dl)))
        except Exception as e:  # noqa: BLE001 - any failure is a test failure
            t.fail("%s/labels: %s" % (pair, e))
    # gdb runs the same commands from the same grammar: the same answers as the CLI.
    d = os.path.join(OUT, "go124-grpc164", "labels")
    exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
    cmds = ["goroutines --label client", "goroutines --group label:request_id --label request_id",
            "why-blocked --label request_id=req-b"]
    try:
        p = subprocess.run(["gdb", "-q", "-batch", "-nx", "-ex", "source %s" % os.path.join(ROOT, "gdb", "grpcscope.py")] +
                           [a for c in cmds for a in ("-ex", "echo @@@\\n", "-ex", c)] + [exe, core],
                           capture_output=True, text=True, timeout=300)
        outs = p.stdout.split("@@@\n")[1:]
        for c, got in zip(cmds, outs + [""] * (len(cmds) - len(outs))):
            rc, want, err = run(c.split() + [exe, core])
            t.check(rc == 0 and got == want and "labels: " in want,
                    "gdb %s: the CLI's answer (%d bytes, gdb %d)" % (c, len(want), len(got)))
    except Exception as e:  # noqa: BLE001 - any failure is a test failure
        t.fail("gdb: %s" % e)
    # The grammar: bad values are told about, help names the options.
    rc, out, err = run(["help", "goroutines"])
    t.check("--label KEY[=VALUE]" in out and "--group [label:KEY]" in out, "help goroutines names --label and --group label:KEY")
    for args, msg in ((["goroutines", "--label", "=x"], "--label needs a label"),
                      (["goroutines", "--group=label:"], "--group takes no value or label:KEY"),
                      (["goroutines", "--group=x"], "--group takes no value or label:KEY")):
        rc, out, err = run(args + ["/nonexistent"])
        t.check(rc == 2 and msg in err, "%s: exit 2, %r (%d: %s)" % (" ".join(args), msg, rc, err.strip()))
    t.finish()


if __name__ == "__main__":
    main()
