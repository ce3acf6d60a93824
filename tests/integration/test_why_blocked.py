#!/usr/bin/env python3
"""`grpcscope why-blocked` on every fixture snapshot: each goroutine the scenario marks gets
the verdict its TRUTH line implies, with the goroutines it blames in its chain; idle-by-
design goroutines (readers, loopy writers, keepalive) get no verdict; DOT output parses."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import Tally, each_snapshot, run, run_json, truth  # noqa: E402

CATALOG = {"peer-silent", "send-flow-control", "stream-quota", "no-ready-transport",
           "transport-closing", "reader-throttled", "writer-blocked", "handler-blocked",
           "app-not-reading", "context-done", "unknown"}
IDLE = ("(*http2Client).reader", "(*controlBuffer).get", "(*http2Server).keepalive",
        "(*http2Client).keepalive", "(*CallbackSerializer).run", "net.(*netFD).accept",
        "net.(*rawConn).Read")


def peer_checks(t, name, d, tr):
    """Two-process scenarios: with --peer the chain crosses into the peer's core."""
    exe, core, pcore = (os.path.join(d, f) for f in ("exe", "core", "peer-core"))
    if not t.check(os.path.exists(pcore), "%s: peer-core exists" % name):
        return
    got = run_json(["why-blocked", "--peer", exe, pcore, exe, core])
    mine = {v["goroutine"]: v for v in got["verdicts"]}
    theirs = {v["goroutine"]: v for v in got["peer_verdicts"]}
    for g in tr["goroutines"]:
        v = mine.get(g["id"])
        if not t.check(v is not None, "%s --peer: goroutine %d has a verdict" % (name, g["id"])):
            continue
        t.check(v["verdict"] == g["verdict"], "%s --peer: goroutine %d is %s (want %s)"
                % (name, g["id"], v["verdict"], g["verdict"]))
        want = set(g.get("peer_blames") or [])
        t.check(want <= set(v["peer_chain"]), "%s --peer: goroutine %d's peer chain %s names %s"
                % (name, g["id"], v["peer_chain"], sorted(want)))
    for g in tr["peer"]["goroutines"]:
        v = theirs.get(g["id"])
        t.check(v is not None and v["verdict"] == g["verdict"], "%s --peer: peer goroutine %d is %s (want %s)"
                % (name, g["id"], v and v["verdict"], g["verdict"]))


def main():
    t = Tally("why-blocked")
    for pair, scen, d, name, (got, gj) in each_snapshot(t, [["why-blocked"], ["goroutines"]]):
        exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
        gor = {g["id"]: g for g in gj["goroutines"]}
        verdicts = {v["goroutine"]: v for v in got["verdicts"]}
        t.check(all(v["verdict"] in CATALOG for v in got["verdicts"]),
                "%s: every verdict code is in the catalog" % name)
        for g in truth(d)["goroutines"]:
            want = g["verdict"]
            if want == "none":  # no gRPC wait reaches it (fixtures/README.md)
                continue
            v = verdicts.get(g["id"])
            if not t.check(v is not None, "%s: goroutine %d (%s) has a verdict" % (name, g["id"], g["role"])):
                continue
            t.check(v["verdict"] == want, "%s: goroutine %d (%s) is %s (want %s): %s"
                    % (name, g["id"], g["role"], v["verdict"], want, v["summary"]))
            missing = set(g["blames"]) - set(v["chain"])
            t.check(not missing, "%s: goroutine %d's chain %s names %s" % (name, g["id"], v["chain"], g["blames"]))
            t.check(len(v["evidence"]) > 0, "%s: goroutine %d's verdict has evidence" % (name, g["id"]))
            # Two connections to one unix socket in the same state: the pairing is ambiguous,
            # said so, and no handler is blamed (fixtures/README.md, unix).
            if g["role"] == "client-recv-ambiguous":
                t.check(any("peer: ambiguous" in e for e in v["evidence"]),
                        "%s: goroutine %d's evidence says the pairing is ambiguous" % (name, g["id"]))
                wrong = set(truth(d)["params"].get("ambiguous_handlers") or []) & set(v["chain"])
                t.check(not wrong, "%s: goroutine %d's chain blames no look-alike handler (%s)"
                        % (name, g["id"], sorted(wrong)))
            # A client parked in waitOnHeader waits for the response headers, not a message
            # (issue 12: watch/subscribe servers send none until the first event).
            in_header = "waitOnHeader" in g.get("function", "") or any(
                "waitOnHeader" in f["function"] for f in gor.get(g["id"], {}).get("frames", []))
            if want == "peer-silent" and in_header:
                t.check(any("no response headers yet" in e for e in v["evidence"]),
                        "%s: goroutine %d waits in waitOnHeader: evidence says no headers yet"
                        % (name, g["id"]))
        idle = [gid for gid, v in verdicts.items()
                if gid in gor and any(x in gor[gid]["top_function"] for x in IDLE)]
        t.check(not idle, "%s: no verdict for idle-by-design goroutines (%s)" % (name, idle))
        tr = truth(d)
        if tr.get("peer"):
            peer_checks(t, name, d, tr)
        if scen == "handler-blocked":
            rc, out, err = run(["why-blocked", "--dot", exe, core])
            ok = rc == 0 and out.startswith("digraph")
            if ok and subprocess.run(["which", "dot"], capture_output=True).returncode == 0:
                ok = subprocess.run(["dot", "-Tsvg"], input=out, capture_output=True, text=True).returncode == 0
            t.check(ok, "%s: --dot gives a graph (%s)" % (name, err.strip()))
            t.check("cycle" not in out, "%s: --dot marks no cycle (clients wait on handlers)" % name)
        if scen == "many-streams":
            # Each client waits for its server stream and each handler for its client: every
            # pair blames the other, so the graph has cycles and --dot must mark them.
            rc, out, err = run(["why-blocked", "--dot", exe, core])
            t.check(rc == 0 and out.count('xlabel="cycle"') >= 2,
                    "%s: --dot marks the mutual waits as cycles (%d)" % (name, out.count("cycle")))
    t.finish()


if __name__ == "__main__":
    main()
