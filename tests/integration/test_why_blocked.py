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
           "app-not-reading", "context-done", "unknown", "leaked"}
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
    """The findings why-blocked prints after its verdicts (abandoned streams), from the JSON;
    cycles are printed before the count line (cycles_text)."""
    findings = [f for f in findings if f["finding"] != "cycle"]
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


def cycle_line(f):
    return "goroutines %s -> %d wait on each other" % (
        " -> ".join(str(g) for g in f["goroutines"]), f["goroutines"][0])


def cycles_text(findings):
    """The cycles block of the --all text, rebuilt from the JSON findings."""
    cyc = [f for f in findings if f["finding"] == "cycle"]
    if not cyc:
        return ""
    why = cyc[0]["summary"][len(cycle_line(cyc[0])) + 2:]
    b = "%d cycle%s in the wait-for graph: %s\n" % (len(cyc), "" if len(cyc) == 1 else "s", why)
    for i, f in enumerate(cyc):
        b += "cycle %d: %s\n" % (i + 1, cycle_line(f))
        for st in f["steps"]:
            s = st["stream"]
            b += "    - goroutine %d (%s)%s\n" % (st["goroutine"], st["verdict"], "" if s is None else
                                                " on %s stream %d %s (%s)" % (s["side"], s["id"], s["method"], s["address"]))
        if f["others"]:
            b += "    - also caught in it:" + ",".join(" goroutine %d" % g for g in f["others"]) + "\n"
    return b


def ungrouped_text(verdicts, gor, findings=()):
    """The text why-blocked printed before grouping (now --all), rebuilt from the JSON; the
    cycles of the wait-for graph (findings) before the count line."""
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
        if v.get("labels"):  # pprof labels, when the goroutine has any
            b += "  labels: %s\n" % ", ".join("%s=%s" % kv for kv in sorted(v["labels"].items()))
        b += "".join("    - %s\n" % e for e in v["evidence"])
        if v["chain"]:
            b += "  next: " + ", ".join("goroutine %d (%s)" % (c, codes.get(c, "?"))
                                        for c in v["chain"]) + "\n"
        if v["peer_chain"]:
            b += "  next in the peer: " + ", ".join("goroutine %d" % c for c in v["peer_chain"]) + "\n"
        blocks.append(b)
    asked = sum(1 for v in verdicts if not v["reached"])
    leaked = sum(1 for v in verdicts if not v["reached"] and v["verdict"] == "leaked")
    cyc = cycles_text(findings)
    return "\n".join(blocks) + ("\n" + cyc if cyc else "") + "%s%d goroutine%s blocked in or on gRPC, %s%d reached through chains\n" % (
        "\n" if verdicts else "", asked - leaked, "" if asked - leaked == 1 else "s",
        "%d leaked, " % leaked if leaked else "", len(verdicts) - asked) + \
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


def cycle_checks(t, name, exe, core, got, dot):
    """many-streams: each client and its handler wait on each other, a cycle of two found once
    (issue 13): in JSON findings, in the grouped text, and the same edges --dot marks."""
    cyc = [f for f in got.get("findings", []) if f["finding"] == "cycle"]
    code = {v["goroutine"]: v for v in got["verdicts"]}
    t.check(len(cyc) >= 2, "%s: JSON findings list the cycles (%d)" % (name, len(cyc)))
    seen = [g for f in cyc for g in f["goroutines"]]
    t.check(len(seen) == len(set(seen)), "%s: each goroutine is in one cycle, each cycle listed once" % name)
    ok = all(len(f["goroutines"]) == 2 and [s["goroutine"] for s in f["steps"]] == f["goroutines"] and
             [s["stream"]["side"] for s in f["steps"]] == ["client", "server"] and
             f["steps"][0]["stream"]["method"] == f["steps"][1]["stream"]["method"] and
             f["methods"] == [f["steps"][0]["stream"]["method"]] and
             f["goroutines"][1] in code[f["goroutines"][0]]["chain"] and
             f["goroutines"][0] in code[f["goroutines"][1]]["chain"] and
             all(s["verdict"] == code[s["goroutine"]]["verdict"] for s in f["steps"])
             for f in cyc)
    t.check(ok, "%s: each cycle is a client and its handler, in order, blaming each other" % name)
    t.check(all(f["stream"] is None and len(f["evidence"]) == len(f["steps"]) and
                f["summary"].startswith(cycle_line(f)) for f in cyc),
            "%s: each cycle finding has its summary and a line of evidence per step" % name)
    marked = set()
    for ln in dot.splitlines():
        if 'xlabel="cycle"' in ln:
            a, b = ln.split("[")[0].split("->")
            marked.add((int(a.strip()[1:]), int(b.strip()[1:])))
    edges = {(f["goroutines"][i], f["goroutines"][(i + 1) % len(f["goroutines"])])
             for f in cyc for i in range(len(f["goroutines"]))}
    t.check(marked == edges, "%s: --dot marks exactly the findings' edges (%d, %d)"
            % (name, len(marked), len(edges)))
    rc, out, err = run(["why-blocked", exe, core])
    t.check(rc == 0 and ("%d cycles in the wait-for graph" % len(cyc)) in out and
            ("%d alike" % len(cyc)) in out and cycle_line(cyc[0]) in out,
            "%s: the grouped text names the cycles once, with the first in full" % name)


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
            cycle_checks(t, name, exe, core, got, out)
        if scen in ("handler-blocked", "pipes"):
            # Clients wait on handlers that wait elsewhere; in pipes two handlers park on one
            # channel and name each other as co-waiters: neither is a cycle.
            t.check(got.get("findings") == [], "%s: JSON has no findings (%s)" % (name, got.get("findings")))
            rc, out, err = run(["why-blocked", exe, core])
            t.check(rc == 0 and "in the wait-for graph" not in out, "%s: text names no cycle" % name)
    t.finish()


if __name__ == "__main__":
    main()
