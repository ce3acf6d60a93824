#!/usr/bin/env python3
"""`grpcscope why-blocked` on every fixture snapshot: each goroutine the scenario marks gets
the verdict its TRUTH line implies, with the goroutines it blames in its chain; idle-by-
design goroutines (readers, loopy writers, keepalive) get no verdict; DOT output parses.
Grouping (issue 15): JSON groups hold every verdict exactly once and their counts add up;
the grouped text names each group once (bounded on many-streams); `--all` text is the
ungrouped text, byte for byte, as rebuilt here from the JSON of why-blocked and goroutines."""
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
    for key, vkey in (("groups", "verdicts"), ("peer_groups", "peer_verdicts")):
        t.check(sorted(g for grp in got.get(key, []) for g in grp["goroutines"]) ==
                sorted(v["goroutine"] for v in got[vkey]),
                "%s --peer: %s hold every one of the %s once" % (name, key, vkey))
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


def findings_text(findings, codes):
    """The findings why-blocked prints after its verdicts (abandoned streams), from the JSON."""
    if not findings:
        return ""
    out = "\n%d finding%s without a goroutine of its own:\n" % (len(findings), "" if len(findings) == 1 else "s")
    for i, f in enumerate(findings):
        out += "\n[F%d] %s\n  %s\n" % (i + 1, f["finding"], f["summary"])
        out += "".join("    - %s\n" % e for e in f["evidence"])
        if f["goroutines"]:
            out += "  concerns: " + ", ".join("goroutine %d (%s)" % (c, codes.get(c, "?"))
                                             for c in f["goroutines"]) + "\n"
    return out


def ungrouped_text(verdicts, gor, findings=()):
    """The text why-blocked printed before grouping (now --all), rebuilt from the JSON."""
    codes = {v["goroutine"]: v["verdict"] for v in verdicts}
    blocks = []
    for v in verdicts:
        b = "goroutine %d: %s%s\n" % (v["goroutine"], v["verdict"],
                                      "  (reached through a chain)" if v["reached"] else "")
        b += "  %s\n" % v["summary"]
        g = gor.get(v["goroutine"])
        if g is not None:
            top = g["top_function"]
            b += "  [%s] at %s %s:%d\n" % (g["wait_reason"] or g["status"], top or "?",
                                          os.path.basename(g["top_file"]) if top else "?",
                                          g["top_line"] if top else 0)
        b += "".join("    - %s\n" % e for e in v["evidence"])
        if v["chain"]:
            b += "  next: " + ", ".join("goroutine %d (%s)" % (c, codes.get(c, "?"))
                                        for c in v["chain"]) + "\n"
        if v["peer_chain"]:
            b += "  next in the peer: " + ", ".join("goroutine %d" % c for c in v["peer_chain"]) + "\n"
        blocks.append(b)
    asked = sum(1 for v in verdicts if not v["reached"])
    return "\n".join(blocks) + "%s%d goroutine%s blocked in or on gRPC, %d reached through chains\n" % (
        "\n" if verdicts else "", asked, "" if asked == 1 else "s", len(verdicts) - asked) + \
        findings_text(findings, codes)


def group_checks(t, name, scen, exe, core, got, gor):
    verdicts, groups = got["verdicts"], got.get("groups")
    if not t.check(isinstance(groups, list), "%s: JSON has groups" % name):
        return
    ids = [g for grp in groups for g in grp["goroutines"]]
    t.check(sum(grp["count"] for grp in groups) == len(verdicts),
            "%s: group counts add up to the %d verdicts" % (name, len(verdicts)))
    t.check(all(grp["count"] == len(grp["goroutines"]) for grp in groups),
            "%s: each group's count is its number of goroutines" % name)
    t.check(sorted(ids) == sorted(v["goroutine"] for v in verdicts),
            "%s: every verdict is in exactly one group" % name)
    code = {v["goroutine"]: v["verdict"] for v in verdicts}
    t.check(all(code[g] == grp["verdict"] for grp in groups for g in grp["goroutines"]),
            "%s: a group's verdict is each member's" % name)
    t.check(all(groups[i]["blocks"] >= groups[i + 1]["blocks"] for i in range(len(groups) - 1)),
            "%s: groups ordered by how many goroutines wait on them" % name)
    rc, out, err = run(["why-blocked", exe, core])
    heads = [ln for ln in out.splitlines() if ln.startswith("[") and not ln.startswith("[F")]
    t.check(rc == 0 and len(heads) == len(groups) and
            all(h.startswith("[%d] %s: %d goroutine" % (i + 1, grp["verdict"], grp["count"]))
                for i, (h, grp) in enumerate(zip(heads, groups))),
            "%s: grouped text has one block per JSON group, in order, with its count" % name)
    rc, out, err = run(["why-blocked", "--all", exe, core])
    want = ungrouped_text(verdicts, gor, got.get("findings", []))
    t.check(rc == 0 and out == want, "%s: --all text is the ungrouped text (%d bytes, want %d)"
            % (name, len(out), len(want)))
    if scen == "many-streams":
        rc, out, err = run(["why-blocked", exe, core])
        lines = out.count("\n")
        t.check(len(verdicts) >= 400 and lines <= 60,
                "%s: grouped text of %d verdicts fits a screen or two (%d lines)"
                % (name, len(verdicts), lines))
        t.check("200 goroutines" in out and "and 192 more" in out,
                "%s: grouped text names the counts" % name)
        rc, out, err = run(["goroutines", "--group", exe, core])
        sizes = [int(ln.split()[0]) for ln in out.splitlines() if " like goroutine " in ln]
        t.check(rc == 0 and len(sizes) > 2 and sizes == sorted(sizes, reverse=True) and sizes[0] == 200,
                "%s: goroutines --group lists groups largest first (%s)" % (name, sizes[:5]))


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
        group_checks(t, name, scen, exe, core, got, gor)
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
