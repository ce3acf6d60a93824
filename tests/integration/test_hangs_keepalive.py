#!/usr/bin/env python3
"""Keepalive and too_many_pings (issue 13, items 3 and 4) on real snapshots.

Scenarios, each on every toolchain pair whose matrix row builds all snapshots, read with its
executable and with a copy stripped by `objcopy --strip-all` (the answers must not change):
- keepalive-off-halfopen: keepalive off, the server process stopped. Alone, the client's
  verdict is peer-silent with half-open evidence (keepalive off, nothing read while it
  waited); with --peer it blames the stopped server's handler, without that evidence.
- keepalive-on-dead-peer: keepalive on (10 s / 1 s), the server stopped; frozen while the
  transport closes: transport-closing with keepalive evidence (nothing read for longer than
  Time + Timeout), the stream listed although the transport dropped it.
- too-many-pings: the client pings every 10 s, the server allows one a minute: GOAWAY
  ENHANCE_YOUR_CALM too_many_pings; the client's stream runs on (peer-silent blaming the
  handler) and the verdicts name the client's Time against the server's MinTime.
`streams --json` shows each transport's keepalive parameters, enforcement policy and ping
strikes, last read, BDP estimation and initial window, compared with the TRUTH's parameters.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import OUT, ROOT, Tally, run_json, truth  # noqa: E402

SCENARIOS = ("keepalive-off-halfopen", "keepalive-on-dead-peer", "too-many-pings")
SECOND = 1000000000


def full_pairs():
    """The matrix rows that build every scenario."""
    pairs = []
    with open(os.path.join(ROOT, "fixtures", "matrix")) as f:
        for line in f:
            w = line.split()
            if w and not w[0].startswith("#") and len(w) >= 5 and w[4] == "all":
                pairs.append(w[0])
    return pairs


def by_goid(verdicts):
    return {v["goroutine"]: v for v in verdicts}


def has(ev, *needles):
    return any(all(n in e for n in needles) for e in ev)


def check_truth_verdicts(t, name, tr, wb, peer_wb=None):
    vs = by_goid(wb["verdicts"])
    for g in tr["goroutines"]:
        v = vs.get(g["id"])
        if not t.check(v is not None, "%s: goroutine %d (%s) has a verdict" % (name, g["id"], g["role"])):
            continue
        t.check(v["verdict"] == g["verdict"], "%s: goroutine %d verdict %s (TRUTH %s)"
                % (name, g["id"], v["verdict"], g["verdict"]))
        if g["blames"]:
            t.check(set(g["blames"]) <= set(v["chain"]), "%s: goroutine %d blames %s (chain %s)"
                    % (name, g["id"], g["blames"], v["chain"]))
        if peer_wb is not None and g.get("peer_blames"):
            t.check(set(g["peer_blames"]) <= set(v["peer_chain"]), "%s: goroutine %d blames %s in the peer (%s)"
                    % (name, g["id"], g["peer_blames"], v["peer_chain"]))
    return vs


def client_transports(st):
    return [x for x in st["transports"] if x["side"] == "client"]


def check_common_facts(t, name, st):
    for x in st["transports"]:
        where = "%s: %s transport %s" % (name, x["side"], x["address"])
        t.check(x.get("bdp_estimation") is True, "%s shows BDP estimation on (%s)" % (where, x.get("bdp_estimation")))
        t.check(x.get("initial_window") == 65535, "%s shows initial window 65535 (%s)" % (where, x.get("initial_window")))
        t.check("keepalive_problem" not in x, "%s: no implausible keepalive value (%s)" % (where, x.get("keepalive_problem")))
        if x["side"] == "server":
            kp, ep = x.get("keepalive_params", {}), x.get("enforcement_policy", {})
            t.check(kp.get("time_ns") == 2 * 3600 * SECOND and kp.get("timeout_ns") == 20 * SECOND and
                    kp.get("max_connection_age_ns", 0) is None and kp.get("max_connection_idle_ns", 0) is None,
                    "%s: server keepalive 2h/20s, no MaxConnectionAge/Idle (%s)" % (where, kp))
            t.check(isinstance(ep.get("ping_strikes"), int) and "min_time_ns" in ep,
                    "%s: enforcement policy with ping strikes (%s)" % (where, ep))
            lr = x.get("last_read")
            t.check(isinstance(lr, dict) and lr.get("unix_ns", 0) > 0,
                    "%s: a server keeps its last read (%s)" % (where, lr))


def halfopen(t, name, d, exe, tr):
    core, pcore = os.path.join(d, "core"), os.path.join(d, "peer-core")
    wb = run_json(["why-blocked", exe, core])
    vs = check_truth_verdicts(t, name, tr, wb)
    g = tr["goroutines"][0]["id"]
    ev = vs.get(g, {}).get("evidence", [])
    t.check(has(ev, "keepalive is off", "half-open connection", "parked on the socket"),
            "%s: alone, the verdict says keepalive off, nothing read: maybe half-open" % name)
    t.check("half-open" in vs.get(g, {}).get("summary", ""), "%s: the summary says the peer may be gone" % name)
    pw = run_json(["why-blocked", "--peer", exe, pcore, exe, core])
    pvs = check_truth_verdicts(t, name + " --peer", tr, pw, peer_wb=pw.get("peer"))
    t.check(not has(pvs.get(g, {}).get("evidence", []), "half-open"),
            "%s --peer: with the peer in hand, no half-open guess" % name)
    st = run_json(["streams", exe, core])
    cts = client_transports(st)
    if t.check(len(cts) == 1, "%s: one client transport (%d)" % (name, len(cts))):
        x = cts[0]
        kp = x.get("keepalive_params", {})
        t.check(kp.get("enabled") is False and kp.get("time_ns", 0) is None,
                "%s: client keepalive off, Time infinity (%s)" % (name, kp))
        t.check(x.get("last_read", 0) is None, "%s: last read not recorded with keepalive off (%s)"
                % (name, x.get("last_read")))
    check_common_facts(t, name, st)


def dead_peer(t, name, d, exe, tr):
    core, pcore = os.path.join(d, "core"), os.path.join(d, "peer-core")
    p = tr["params"]
    wb = run_json(["why-blocked", exe, core])
    vs = check_truth_verdicts(t, name, tr, wb)
    g = tr["goroutines"][0]["id"]
    ev = vs.get(g, {}).get("evidence", [])
    t.check(has(ev, "keepalive is on (ping after 10s without reads, ack within 1s)", "more than Time + Timeout"),
            "%s: keepalive on, nothing read for longer than Time + Timeout" % name)
    check_truth_verdicts(t, name + " --peer", tr, run_json(["why-blocked", "--peer", exe, pcore, exe, core]),
                         peer_wb=True)
    st = run_json(["streams", exe, core])
    closing = [x for x in client_transports(st) if x["state"] == "closing"]
    if t.check(len(closing) == 1, "%s: one client transport closing (%d)" % (name, len(closing))):
        x = closing[0]
        kp = x.get("keepalive_params", {})
        t.check(kp.get("enabled") is True and kp.get("time_ns") == p["keepalive_time_ms"] * 1000000 and
                kp.get("timeout_ns") == p["keepalive_timeout_ms"] * 1000000 and
                kp.get("permit_without_stream") is p["permit_without_stream"],
                "%s: client keepalive %s as TRUTH's %s" % (name, kp, p))
        lr = x.get("last_read") or {}
        limit = (p["keepalive_time_ms"] + p["keepalive_timeout_ms"]) * 1000000
        t.check(lr.get("unix_ns", 0) > 0 and (lr.get("before_snapshot_ns") or 0) >= limit,
                "%s: last read longer than Time + Timeout before the snapshot (%s)" % (name, lr))
        ss = x.get("streams", [])
        t.check(len(ss) == 1 and ss[0].get("detached") is True and ss[0].get("method") == "/grpcscope.test.Echo/Bidi",
                "%s: the stream the closing transport dropped is listed, detached (%s)"
                % (name, [(s.get("id"), s.get("detached")) for s in ss]))
    check_common_facts(t, name, st)


def too_many_pings(t, name, d, exe, tr):
    core = os.path.join(d, "core")
    wb = run_json(["why-blocked", exe, core])
    vs = check_truth_verdicts(t, name, tr, wb)
    for g in tr["goroutines"]:
        ev = vs.get(g["id"], {}).get("evidence", [])
        t.check(has(ev, "too_many_pings", "keepalive Time is 10s", "EnforcementPolicy MinTime 1m0s"),
                "%s: the %s verdict names the client's Time 10s against the server's MinTime 1m0s"
                % (name, g["role"]))
    client = [g for g in tr["goroutines"] if g["role"] == "client-recv"][0]["id"]
    t.check("too_many_pings" in vs.get(client, {}).get("summary", ""), "%s: the client's summary says too_many_pings" % name)
    st = run_json(["streams", exe, core])
    ga = [x for x in client_transports(st) if x.get("goaway_received")]
    if t.check(len(ga) == 1, "%s: one client transport received GOAWAY (%d)" % (name, len(ga))):
        x = ga[0]
        g = x.get("goaway", {})
        t.check(g.get("reason") == "too-many-pings", "%s: GOAWAY reason too-many-pings (%s)" % (name, g))
        if tr["grpc"] != "1.33.3":  # 1.64+ keep the debug data
            t.check("too_many_pings" in g.get("debug", ""), "%s: GOAWAY debug data too_many_pings (%s)" % (name, g))
        kp = x.get("keepalive_params", {})
        t.check(kp.get("enabled") is True and kp.get("time_ns") == tr["params"]["client_keepalive_time_ms"] * 1000000
                and kp.get("timeout_ns") == 20 * SECOND,
                "%s: client keepalive Time 10s, Timeout 20s (%s)" % (name, kp))
        t.check(len(x.get("streams", [])) == 1, "%s: its stream runs on" % name)
    struck = [x for x in st["transports"] if x["side"] == "server" and
              x.get("enforcement_policy", {}).get("ping_strikes", 0) > 2]
    if t.check(len(struck) == 1, "%s: one server transport past 2 ping strikes (%d)" % (name, len(struck))):
        ep = struck[0]["enforcement_policy"]
        t.check(ep.get("min_time_ns") == tr["params"]["server_min_time_ms"] * 1000000 and
                ep.get("permit_without_stream") is False,
                "%s: server MinTime 1m0s, no pings without streams (%s)" % (name, ep))
    check_common_facts(t, name, st)


CHECKS = {"keepalive-off-halfopen": halfopen, "keepalive-on-dead-peer": dead_peer,
          "too-many-pings": too_many_pings}


def main():
    t = Tally("hangs-keepalive")
    tmp = tempfile.mkdtemp(prefix="gs-keepalive.")
    try:
        for pair in full_pairs():
            for scen in SCENARIOS:
                name = "%s/%s" % (pair, scen)
                d = os.path.join(OUT, pair, scen)
                if os.path.exists(os.path.join(d, "FAILED")):
                    t.fail("%s: snapshot failed to build: %s" % (name, open(os.path.join(d, "FAILED")).read().strip()))
                    continue
                if not all(os.path.exists(os.path.join(d, f)) for f in ("exe", "core", "truth.json")):
                    t.fail("%s: no snapshot under %s (build it with fixtures/make-snapshots.sh)" % (name, OUT))
                    continue
                tr = truth(d)
                exe = os.path.join(d, "exe")
                bare = os.path.join(tmp, "%s-%s-exe" % (pair, scen))
                p = subprocess.run(["objcopy", "--strip-all", exe, bare], capture_output=True, text=True)
                if not t.check(p.returncode == 0, "%s: objcopy --strip-all %s" % (name, p.stderr.strip()[:200])):
                    continue
                for label, e in (("dwarf", exe), ("stripped", bare)):
                    try:
                        CHECKS[scen](t, "%s (%s)" % (name, label), d, e, tr)
                    except (RuntimeError, ValueError, KeyError) as err:
                        t.fail("%s (%s): %s" % (name, label, err))
                os.unlink(bare)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t.finish()


if __name__ == "__main__":
    main()
