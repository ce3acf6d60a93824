#!/usr/bin/env python3
"""why-blocked --label with several snapshots is one filter over the set (issue 16's
leftover): on the `split-labels` scenario (a client process whose two stream readers wait on
handlers of a server process; only reader a has the label client=ca, no handler has labels),
`--label client=ca EXE CORE --peer EXE PEER-CORE` keeps reader a in the primary and, in the
peer, the handler its chain reaches (TRUTH params.kept_peer), and drops reader b and its
handler (params.unlabelled, params.dropped_peer) -- in text, JSON (`peers[].verdicts`, the
peer's `groups` counts) and --dot alike. Without --label both handlers are there; a label
nobody has empties every list. On the chain fixtures (GS_CHAINS_OUT), a label no hop has
leaves nothing in any of the processes."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import OUT, ROOT, Tally, run  # noqa: E402

PAIRS = [line.split()[0] for line in open(os.path.join(ROOT, "fixtures", "matrix"))
         if line.strip() and not line.startswith("#") and line.split()[4:5] == ["all"]]
CHAINS = os.path.realpath(os.environ.get("GS_CHAINS_OUT", os.path.join(ROOT, "fixtures", "out-chains")))


def ids(vs):
    return sorted(v["goroutine"] for v in vs)


def check_json(t, pair, args, labelled, unlabelled, kept, dropped):
    rc, out, err = run(["why-blocked", "--json", "--label", "client=ca"] + args)
    if not t.check(rc == 0, "%s: why-blocked --json --label exit %d %s" % (pair, rc, err.strip()[:200])):
        return
    j = json.loads(out)
    prim, peers = j["verdicts"], j.get("peers", [])
    t.check(labelled in ids(prim) and unlabelled not in ids(prim),
            "%s: primary keeps the labelled reader %d, drops %d: %s" % (pair, labelled, unlabelled, ids(prim)))
    if not t.check(len(peers) == 1, "%s: one peer in JSON" % pair):
        return
    pv = peers[0]["verdicts"]
    t.check(kept in ids(pv) and dropped not in ids(pv),
            "%s: the peer keeps handler %d (reached across from %d), drops %d: %s"
            % (pair, kept, labelled, dropped, ids(pv)))
    a = next((v for v in prim if v["goroutine"] == labelled), None)
    t.check(a is not None and [x["goroutine"] for x in a.get("across", [])] == [kept],
            "%s: the labelled reader's across path names handler %d: %s"
            % (pair, kept, a and a.get("across")))
    for name, vs, gr in (("primary", prim, j.get("groups", [])), ("peer", pv, peers[0].get("groups", []))):
        t.check(sum(g["count"] for g in gr) == len(vs) and
                sorted(x for g in gr for x in g["goroutines"]) == ids(vs),
                "%s: the %s's groups count exactly its kept verdicts (%d)" % (pair, name, len(vs)))


def check_text_dot(t, pair, args, labelled, unlabelled, kept, dropped):
    rc, out, err = run(["why-blocked", "--all", "--label", "client=ca"] + args)
    parts = out.split("=== peer snapshot ")
    if not t.check(rc == 0 and len(parts) == 2, "%s: text has the primary and one peer section (exit %d %s)"
                   % (pair, rc, err.strip()[:200])):
        return
    own = lambda s: set(int(x) for x in re.findall(r"^goroutine (\d+): ", s, re.M))
    t.check(own(parts[0]) == {labelled} and own(parts[1]) == {kept},
            "%s: text: primary %s (want {%d}), peer %s (want {%d}, not %d)"
            % (pair, own(parts[0]), labelled, own(parts[1]), kept, dropped))
    t.check(re.search(r"chain across processes: \S+ goroutine %d " % kept, parts[0]) is not None,
            "%s: text: the primary's chain line names the peer's handler %d" % (pair, kept))
    rc, dot, err = run(["why-blocked", "--dot", "--label", "client=ca"] + args)
    nodes = set(re.findall(r"^\s*(p\d+_g\d+) \[", dot, re.M))
    t.check(rc == 0 and nodes == {"p0_g%d" % labelled, "p1_g%d" % kept},
            "%s: --dot draws the labelled reader and the handler it reaches only: %s" % (pair, sorted(nodes)))


def check_pair(t, pair):
    d = os.path.join(OUT, pair, "split-labels")
    if not os.path.isfile(os.path.join(d, "truth.json")) or not os.path.isfile(os.path.join(d, "peer-core")):
        t.fail("%s: no split-labels snapshot pair at %s (build the fixture)" % (pair, d))
        return
    with open(os.path.join(d, "truth.json")) as f:
        p = json.load(f)["params"]
    exe = os.path.join(d, "exe")
    args = [exe, os.path.join(d, "core"), "--peer", exe, os.path.join(d, "peer-core")]
    facts = (p["labelled"], p["unlabelled"], p["kept_peer"], p["dropped_peer"])
    check_json(t, pair, args, *facts)
    check_text_dot(t, pair, args, *facts)
    rc, out, _ = run(["why-blocked", "--json"] + args)
    pv = ids(json.loads(out)["peers"][0]["verdicts"]) if rc == 0 else []
    t.check(facts[2] in pv and facts[3] in pv, "%s: without --label the peer has both handlers: %s" % (pair, pv))
    rc, out, _ = run(["why-blocked", "--json", "--label", "client=nobody"] + args)
    j = json.loads(out) if rc == 0 else {"verdicts": [1], "peers": []}
    t.check(not j["verdicts"] and all(not x["verdicts"] for x in j["peers"]),
            "%s: a label nobody has keeps nothing in either process" % pair)


def check_chains(t):
    d = os.path.join(CHAINS, "chain5")
    if not os.path.isdir(d):
        t.fail("no chain fixtures at %s (make fixtures)" % CHAINS)
        return
    rc, out, err = run(["why-blocked", "--json", "--label", "team=none", "--snapshots", d])
    j = json.loads(out) if rc == 0 else {"verdicts": [1], "peers": []}
    t.check(rc == 0 and not j["verdicts"] and len(j["peers"]) == 4 and all(not x["verdicts"] for x in j["peers"]),
            "chain5: a label no hop has leaves no verdict in any of the five (exit %d %s)" % (rc, err.strip()[:200]))
    rc, out, _ = run(["why-blocked", "--json", "--snapshots", d])
    t.check(rc == 0 and all(x["verdicts"] for x in json.loads(out)["peers"]),
            "chain5: without --label every hop has its verdicts")


def main():
    t = Tally("labels-peers")
    for pair in PAIRS:
        check_pair(t, pair)
    check_chains(t)
    t.finish()


if __name__ == "__main__":
    main()
