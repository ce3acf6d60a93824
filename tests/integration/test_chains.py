#!/usr/bin/env python3
"""Chains through several processes (issue 16): the snapshots of fixtures/chains (3, 5 and 10
processes in a row, each hop built with its own Go and grpc-go, the last one's handler
blocked on a mutex or a channel), read as one set with --peer repeated and with --snapshots
DIR. Against each chain's TRUTH: every hop's goroutine has its verdict and stream method, and
the chain of the client (and of every hop after it) is followed to the end — JSON `across`,
the text's chain line, one DOT graph with a cluster per process, the report's clusters. The
one-peer JSON keys stay; bad directories and snapshots given twice are exit 2 with one line.

The snapshots are in GS_CHAINS_OUT (default fixtures/out-chains; built by `make fixtures`,
fixtures/chains/snapshot.sh)."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import ROOT, run, Tally  # noqa: E402

OUT = os.path.realpath(os.environ.get("GS_CHAINS_OUT", os.path.join(ROOT, "fixtures", "out-chains")))


def chain_names():
    with open(os.path.join(ROOT, "fixtures", "chains", "chains")) as f:
        return [l.split()[0] for l in f if l.strip() and not l.startswith("#")]


def load(name):
    d = os.path.join(OUT, name)
    with open(os.path.join(d, "truth.json")) as f:
        tr = json.load(f)
    for h in tr["hops"]:
        h["exe_path"], h["core_path"] = os.path.join(d, h["exe"]), os.path.join(d, h["core"])
        h["g"] = h["goroutines"][0]
    return d, tr


def peer_args(hops):
    a = [hops[0]["exe_path"], hops[0]["core_path"]]
    for h in hops[1:]:
        a += ["--peer", h["exe_path"], h["core_path"]]
    return a


def verdict_of(verdicts, gid):
    return next((v for v in verdicts if v["goroutine"] == gid), None)


def want_across(hops, k):
    """The path from hop k's goroutine: every later hop's goroutine, verdict and method."""
    return [(h["core_path"], h["g"]["id"], h["g"]["verdict"], h["g"]["stream"]["method"])
            for h in hops[k + 1:]]


def got_across(v):
    return [(a["core"], a["goroutine"], a["verdict"], a["method"]) for a in v.get("across", [])]


def check_json(t, name, j, hops, first=0):
    """j: why-blocked --json over hops[first:] (the primary hops[first])."""
    hs = hops[first:]
    t.check([s["core"] for s in j["snapshots"]] == [h["core_path"] for h in hs] and
            [s["role"] for s in j["snapshots"]] == ["primary"] + ["peer"] * (len(hs) - 1),
            "%s: snapshots list the primary %s, then the peers in order" % (name, hs[0]["core"]))
    lists = [j["verdicts"]] + [p["verdicts"] for p in j["peers"]]
    if not t.check(len(lists) == len(hs), "%s: verdicts for each of the %d snapshots" % (name, len(hs))):
        return
    for k, (h, vs) in enumerate(zip(hs, lists)):
        g = h["g"]
        v = verdict_of(vs, g["id"])
        what = "%s: hop %d (%s, grpc %s) goroutine %d (%s)" % (name, h["hop"], h["go"], h["grpc"], g["id"], g["role"])
        if not t.check(v is not None, what + " has a verdict"):
            continue
        t.check(v["verdict"] == g["verdict"] and v["stream"] and v["stream"]["method"] == g["stream"]["method"]
                and v["stream"]["side"] == g["stream"]["side"],
                "%s is %s on its %s stream %s (got %s %s)" % (what, g["verdict"], g["stream"]["side"],
                                                               g["stream"]["method"], v["verdict"], v["stream"]))
        t.check(got_across(v) == want_across(hs, k),
                "%s: its chain across goes to the end (%s)" % (what, " -> ".join(
                    "%s:%d" % (os.path.basename(c), gid) for c, gid, _, _ in got_across(v)) or "none"))
        nxt = hs[k + 1]["g"]["id"] if k + 1 < len(hs) else None
        t.check(v["peer_chain"] == ([nxt] if nxt is not None else []),
                "%s: peer_chain names the next hop's goroutine %s (got %s)" % (what, nxt, v["peer_chain"]))
    # The keys of one peer stay: the first peer.
    t.check(j["peer"] == hs[1]["core_path"] and j["peer_verdicts"] == j["peers"][0]["verdicts"] and
            j["peer_groups"] == j["peers"][0]["groups"],
            "%s: peer, peer_verdicts and peer_groups are the first peer's" % name)


def check_dumps(t, name, hops):
    """Each hop's goroutine as the Go runtime's own dump (SIGQUIT after the freeze) shows it:
    same wait reason, and the same in grpcscope's listing of its core."""
    for h in hops:
        g = h["g"]
        path = os.path.join(os.path.dirname(h["core_path"]), "hop%d.runtime-goroutines.txt" % h["hop"])
        try:
            with open(path, errors="replace") as f:
                m = re.search(r"^goroutine %d (?:gp=\S+ m=\S+ (?:mp=\S+ )?)?\[([^\],]*)" % g["id"], f.read(), re.M)
        except OSError as e:
            t.fail("%s: %s" % (name, e))
            continue
        rc, out, err = run(["goroutines", "--json", "--id", str(g["id"]), h["exe_path"], h["core_path"]])
        mine = json.loads(out)["goroutines"] if rc == 0 else []
        t.check(m is not None and m.group(1) == g["wait"] and len(mine) == 1 and mine[0]["wait_reason"] == g["wait"],
                "%s: hop %d goroutine %d is [%s] in the runtime's dump and in grpcscope's listing (%s, %s)"
                % (name, h["hop"], g["id"], g["wait"], m.group(1) if m else "absent",
                   mine[0]["wait_reason"] if mine else err.strip()[:100]))


def check_text(t, name, text, hops):
    t.check(text.startswith("=== primary snapshot %s\n" % hops[0]["core_path"]) and
            all("=== peer snapshot %s\n" % h["core_path"] in text for h in hops[1:]),
            "%s: the text says which snapshot is the primary and names each peer" % name)
    want = " -> ".join("%s goroutine %d (%s, %s stream 1 %s)" % (
        h["core_path"], h["g"]["id"], h["g"]["verdict"], h["g"]["stream"]["side"], h["g"]["stream"]["method"])
        for h in hops[1:])
    t.check("  chain across processes: %s\n" % want in text,
            "%s: the client's chain across processes, to the last hop, in the text" % name)


def check_dot(t, name, dot, hops):
    clusters = re.findall(r"subgraph cluster_p(\d+) \{\n    label=\"(primary|peer): ([^\"]*)\"", dot)
    t.check([(int(i), c) for i, _, c in clusters] == [(k, h["core_path"]) for k, h in enumerate(hops)],
            "%s: --dot draws one cluster per process (%d)" % (name, len(clusters)))
    edges = ["  p%d_g%d -> p%d_g%d [label=\"blames\",style=bold];" % (k, hops[k]["g"]["id"], k + 1, hops[k + 1]["g"]["id"])
             for k in range(len(hops) - 1)]
    t.check(all(e in dot.splitlines() for e in edges) and dot.rstrip().endswith("}"),
            "%s: --dot has an edge from each hop's goroutine to the next one's" % name)


def check_report(t, name, d, hops, tmp):
    """The report's graph, laid out by Graphviz (where libgvc loads) and by grpcscope's own
    layout: a node per hop's goroutine and a cluster per process."""
    for own in ("1", "0"):
        page = os.path.join(tmp, "%s-%s.html" % (name, own))
        before = os.environ.get("GRPCSCOPE_OWN_LAYOUT")
        os.environ["GRPCSCOPE_OWN_LAYOUT"] = own
        try:
            rc, _, err = run(["report", "-o", page, "--snapshots", d])
        finally:
            if before is None:
                del os.environ["GRPCSCOPE_OWN_LAYOUT"]
            else:
                os.environ["GRPCSCOPE_OWN_LAYOUT"] = before
        what = "%s: report --snapshots DIR (%s)" % (name, "own layout" if own == "1" else "default layout")
        if not t.check(rc == 0, "%s (exit %d: %s)" % (what, rc, err.strip())):
            continue
        with open(page) as f:
            html = f.read().replace("&#45;", "-")  # Graphviz writes '-' in ids so
        engine = re.search(r"Drawn by ([^.]*)\.", html)
        ids = ["node-g%d" % hops[0]["g"]["id"]] + ["node-%sg%d" % ("peer-" if k == 1 else "peer%d-" % k, h["g"]["id"])
                                                   for k, h in enumerate(hops) if k]
        t.check(all('id="%s"' % i in html for i in ids) and
                all('id="cluster-%d"' % k in html for k in range(len(hops))),
                "%s: the graph (%s) has every hop's goroutine, a cluster per process"
                % (what, engine.group(1) if engine else "?"))
        t.check('id="peer-groups"' in html and (len(hops) < 3 or 'id="peer%d-groups"' % (len(hops) - 1) in html)
                and "chain across processes" in html,
                "%s: each peer's root causes and the chain across" % what)


def check_gdb(t, name, d, hops):
    """Inside gdb the debugger's core is the primary; DIR's copy of it is passed over."""
    h = hops[0]
    try:
        p = subprocess.run(["gdb", "-q", "-batch", "-nx", "-ex", "source %s" % os.path.join(ROOT, "gdb", "grpcscope.py"),
                            "-ex", "why-blocked --json --snapshots %s" % d, h["exe_path"], h["core_path"]],
                           capture_output=True, text=True, timeout=180)
    except (OSError, subprocess.TimeoutExpired) as e:
        t.fail("%s: gdb why-blocked --snapshots: %s" % (name, e))
        return
    line = next((l for l in p.stdout.splitlines() if l.startswith('{"schema"')), None)
    rc, out, err = run(["why-blocked", "--json", h["exe_path"], h["core_path"], "--snapshots", d])
    if not t.check(line is not None and rc == 0, "%s: why-blocked --snapshots DIR in gdb and on the command line "
                   "(gdb: %s; cli exit %d %s)" % (name, p.stderr.strip()[-200:], rc, err.strip()[:200])):
        return
    g, c = json.loads(line), json.loads(out)
    t.check(g["verdicts"] == c["verdicts"] and g["peers"] == c["peers"] and
            [s["core"] for s in g["snapshots"]][1:] == [x["core_path"] for x in hops[1:]],
            "%s: gdb gives the command line's verdicts and chains, its core the primary once" % name)


def bad_input(t, d, hops, tmp):
    def refused(what, args, want):
        rc, out, err = run(args)
        t.check(rc == 2 and out == "" and len(err.strip().splitlines()) == 1 and want in err,
                "%s: exit 2, one line naming it (exit %d: %s)" % (what, rc, err.strip()[:200]))
    a = os.path.join(tmp, "noexe")
    os.mkdir(a)
    os.link(hops[1]["core_path"], os.path.join(a, "x.core"))
    refused("--snapshots with a core whose executable is not there", ["why-blocked", "--snapshots", a],
            os.path.join(a, "x.core") + ": no executable for it")
    b = os.path.join(tmp, "notcore")
    os.mkdir(b)
    with open(os.path.join(b, "y.core"), "w") as f:
        f.write("not a core\n")
    refused("--snapshots with a non-core named .core", ["why-blocked", "--snapshots", b],
            os.path.join(b, "y.core") + ": named as a core, but not an ELF core file")
    c = os.path.join(tmp, "empty")
    os.mkdir(c)
    refused("--snapshots with no core", ["why-blocked", "--snapshots", c], c + ": no core files in it")
    refused("--snapshots with a file", ["why-blocked", "--snapshots", os.path.join(d, "truth.json")],
            "truth.json: not a directory")
    refused("the same --peer twice", ["why-blocked"] + peer_args(hops) + ["--peer", hops[1]["exe_path"], hops[1]["core_path"]],
            hops[1]["core_path"] + ": the same core as")
    # The core found by the executable its mappings record (no NAME beside NAME.core).
    e = os.path.join(tmp, "bymapping")
    os.mkdir(e)
    os.link(hops[1]["core_path"], os.path.join(e, "core.4242"))
    os.link(hops[1]["exe_path"], os.path.join(e, os.path.basename(hops[1]["exe_path"])))
    for f in ("core_path", "exe_path"):
        os.link(hops[2][f], os.path.join(e, os.path.basename(hops[2][f])))
    rc, out, err = run(["why-blocked", "--json", "--snapshots", e])
    j = json.loads(out) if rc == 0 else {}
    t.check([(s["core"], s["exe"]) for s in j.get("snapshots", [])] ==
            [(os.path.join(e, "core.4242"), os.path.join(e, os.path.basename(hops[1]["exe_path"]))),
             (os.path.join(e, hops[2]["core"]), os.path.join(e, hops[2]["exe"]))],
            "a core without NAME beside it: its executable found by the name its mappings record "
            "(exit %d: %s)" % (rc, err.strip()[:200]))


def main():
    t = Tally("chains")
    names = chain_names()
    tmp = tempfile.mkdtemp(prefix="gs-chains-")
    try:
        for name in names:
            d = os.path.join(OUT, name)
            if not t.check(os.path.isfile(os.path.join(d, "truth.json")) and not os.path.exists(os.path.join(d, "FAILED")),
                           "%s: snapshot built in %s (make fixtures)" % (name, d)):
                continue
            d, tr = load(name)
            hops = tr["hops"]
            t.check(len({(h["go"], h["grpc"]) for h in hops}) > 1 and len(hops) >= 3,
                    "%s: %d processes, %d Go/grpc-go pairs" % (name, len(hops), len({(h["go"], h["grpc"]) for h in hops})))
            # --snapshots DIR: the first snapshot (hop0, the client) is the primary.
            rc, out, err = run(["why-blocked", "--json", "--snapshots", d], timeout=300)
            if t.check(rc == 0, "%s: why-blocked --snapshots DIR (exit %d: %s)" % (name, rc, err.strip()[:300])):
                jd = json.loads(out)
                check_json(t, name + " --snapshots", jd, hops)
            if name == names[-1]:
                continue  # the ten processes: --snapshots is enough here (bench/chains.py times it)
            rc, out, err = run(["why-blocked", "--json"] + peer_args(hops), timeout=300)
            if t.check(rc == 0, "%s: why-blocked with --peer for each other hop (exit %d: %s)" % (name, rc, err.strip()[:300])):
                jp = json.loads(out)
                check_json(t, name + " --peer", jp, hops)
                t.check(rc == 0 and jp["verdicts"] == jd["verdicts"] and jp["peers"] == jd["peers"],
                        "%s: --peer for each hop and --snapshots DIR give the same verdicts" % name)
            check_dumps(t, name, hops)
            rc, out, err = run(["why-blocked"] + peer_args(hops))
            if t.check(rc == 0, "%s: why-blocked text (exit %d)" % (name, rc)):
                check_text(t, name, out, hops)
            rc, out, err = run(["why-blocked", "--dot", "--snapshots", d])
            if t.check(rc == 0, "%s: why-blocked --dot (exit %d)" % (name, rc)):
                check_dot(t, name, out, hops)
            if name != names[0]:
                continue
            # A gateway as the primary: DIR's copy of it is passed over, its chain goes on.
            rc, out, err = run(["why-blocked", "--json", hops[1]["exe_path"], hops[1]["core_path"], "--snapshots", d])
            if t.check(rc == 0, "%s: hop 1 as the primary with --snapshots DIR (exit %d: %s)" % (name, rc, err.strip()[:300])):
                j = json.loads(out)
                v = verdict_of(j["verdicts"], hops[1]["g"]["id"])
                t.check([s["core"] for s in j["snapshots"]] == [hops[1]["core_path"], hops[0]["core_path"]] +
                        [h["core_path"] for h in hops[2:]] and v is not None and got_across(v) == want_across(hops, 1),
                        "%s: hop 1 primary, the others peers once each, its chain to the end" % name)
            check_report(t, name, d, hops, tmp)
            check_gdb(t, name, d, hops)
            bad_input(t, d, hops, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t.finish()


if __name__ == "__main__":
    main()
