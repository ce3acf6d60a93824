#!/usr/bin/env python3
"""`grpcscope streams` on every fixture snapshot: the streams found equal the TRUTH line's
(methods, sides, counts); every goroutine that waits in gRPC or runs a handler is linked to
its stream; `goroutines` names the owning stream object; and the numbers each scenario makes
certain hold (flow control, stream quota, GOAWAY, cancelled context)."""
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import Tally, each_snapshot, truth  # noqa: E402

LINKED_ROLES = {"client-recv", "server-recv", "client-send", "server-send", "server-handler",
                "handler-mutex", "handler-chan", "handler-select", "client-unary"}


def scenario_checks(t, name, scen, tr, got, gor):
    streams = [s for x in got["transports"] for s in x["streams"]]
    client = [s for s in streams if s["side"] == "client"]
    server = [s for s in streams if s["side"] == "server"]
    base = tr["scenario"]  # a build variant (-pie, -sw-nocgo, ...) checks as its scenario
    if base == "peer-silent":
        t.check(all(s["header_sent"] for s in server) and all(s["header_received"] for s in client),
                "%s: the handler's headers were sent and the client received them" % name)
        t.check(all(s["status"] is None for s in client), "%s: the client stream has no final status" % name)
    if base == "send-flow-control":
        t.check(any(s["inbound"] and s["inbound"]["pending_data"] > 0 for s in client),
                "%s: the client stream holds unread bytes" % name)
        t.check(any(s["outbound"]["write_quota"] is not None and s["outbound"]["write_quota"] <= 0
                    for s in server), "%s: the server stream's write quota is exhausted" % name)
    elif base == "client-send-flow-control":
        t.check(any(s["inbound"] and s["inbound"]["pending_data"] > 0 for s in server),
                "%s: the server stream holds unread bytes" % name)
        t.check(any(s["outbound"]["write_quota"] is not None and s["outbound"]["write_quota"] <= 0
                    for s in client), "%s: the client stream's write quota is exhausted" % name)
    elif base == "stream-quota":
        n = tr["params"]["max_concurrent_streams"]
        t.check(len(server) == n, "%s: the server has exactly %d streams (got %d)" % (name, n, len(server)))
        waiting = [x for x in got["transports"] if x["side"] == "client" and x.get("waiting_for_quota")]
        t.check(len(waiting) == 1 and waiting[0]["waiting_for_quota"] == 1,
                "%s: one client goroutine waits for stream quota (%s)"
                % (name, [x.get("waiting_for_quota") for x in got["transports"]]))
        t.check(any(x["side"] == "client" and x["stream_quota"] <= 0 for x in got["transports"]),
                "%s: the client transport has no stream quota left" % name)
        q = [g for g in tr["goroutines"] if g["role"] == "newstream-quota"]
        for g in q:
            owners = [w.get("owner") or "" for w in gor[g["id"]]["waiting_on"]]
            t.check(any("stream quota" in o for o in owners),
                    "%s: goroutine %d waits on the transport's stream quota (%s)" % (name, g["id"], owners))
    elif base in ("goaway", "max-age"):
        t.check(any(x["side"] == "server" and x["goaway_sent"] for x in got["transports"]) and
                any(x["side"] == "client" and (x["goaway_received"] or x["state"] == "draining")
                    for x in got["transports"]),
                "%s: the server sent a GOAWAY and the client got it" % name)
        # The client's view of the GOAWAY: the open stream's id is the last one the server
        # takes; from grpc-go 1.64 the debug data names the server's reason.
        why = "graceful_stop" if base == "goaway" else "max_age"
        ga = [x["goaway"] for x in got["transports"] if x["side"] == "client" and x.get("goaway")
              and x["streams"]]
        t.check(len(ga) == 1 and ga[0]["last_stream_id"] >= 1 and
                (tr["grpc"].startswith("1.33") or why in ga[0]["debug"]),
                "%s: the client transport's GOAWAY: last stream id, debug data %r (%s)" % (name, why, ga))
    elif base == "tls":
        t.check(all("tls.Conn" in (x.get("connection") or {}).get("via", "") and x["fd"] >= 0
                    for x in got["transports"]) and len(got["transports"]) == 2,
                "%s: both transports' sockets are reached through *tls.Conn (%s)"
                % (name, [(x.get("connection"), x["fd"]) for x in got["transports"]]))
    elif base == "wrapped":
        conns = [x.get("connection") or {} for x in got["transports"] if x["side"] == "client"]
        p = tr["params"]
        t.check(any(c.get("via") == p["followed"] and not c.get("not_followed") for c in conns) and
                any(c.get("not_followed") == p["not_followed"] for c in conns),
                "%s: the client conns: %s crossed, %s named as not followed (%s)"
                % (name, p["followed"], p["not_followed"], conns))
    elif base == "pipes":
        kinds = sorted((x.get("connection") or {}).get("kind", "tcp") for x in got["transports"])
        t.check(kinds == ["bufconn", "bufconn", "pipe", "pipe"],
                "%s: two transports over bufconn, two over net.Pipe (%s)" % (name, kinds))
    elif base == "unix":
        sock = "unix:" + tr["params"]["socket"]
        t.check(all((x.get("connection") or {}).get("kind") == "unix" and x["fd"] >= 0 and
                    sock in (x["local"], x["remote"]) for x in got["transports"]),
                "%s: every transport is on unix socket %s (%s)"
                % (name, sock, [(x["local"], x["remote"]) for x in got["transports"]]))
    elif base == "cancelled":
        t.check(any(s["context"] and s["context"]["done"] and s["context"]["err"] == "context canceled"
                    for s in server), "%s: the cancelled stream's context says context canceled" % name)
        t.check(any(s["context"] and not s["context"]["done"] for s in server),
                "%s: the live stream's context is not done" % name)
    elif base == "deadline-unary":
        t.check(any(s["context"] and s["context"]["deadline_unix_ns"] for s in server),
                "%s: the unary call's deadline is read" % name)


def main():
    t = Tally("streams")
    for pair, scen, d, name, (got, gj) in each_snapshot(t, [["streams"], ["goroutines"]]):
        gor = {g["id"]: g for g in gj["goroutines"]}
        tr = truth(d)
        found = collections.Counter((s["side"], s["method"]) for x in got["transports"] for s in x["streams"]
                                    if not s.get("detached"))
        want = collections.Counter({(s["side"], s["method"]): s["count"] for s in tr["streams"]})
        t.check(found == want, "%s: streams found %s equal TRUTH %s" % (name, dict(found), dict(want)))
        by_goroutine = collections.defaultdict(list)
        for x in got["transports"]:
            for s in x["streams"]:
                for gid in s["goroutines"]:
                    by_goroutine[gid].append(s)
        for g in tr["goroutines"]:
            if g["role"] not in LINKED_ROLES or not g["stream"]:
                continue
            linked = [s for s in by_goroutine.get(g["id"], [])
                      if s["side"] == g["stream"]["side"] and s["method"] == g["stream"]["method"]]
            t.check(linked, "%s: goroutine %d (%s) is linked to its %s stream"
                    % (name, g["id"], g["role"], g["stream"]["side"]))
            if g["role"] in ("client-recv", "server-recv", "client-send", "server-send", "client-unary") \
                    and g["id"] in gor:
                owners = [w.get("owner") or "" for w in gor[g["id"]]["waiting_on"]]
                t.check(any(" stream " in o for o in owners), "%s: goroutine %d waits on a stream object (%s)"
                        % (name, g["id"], owners))
        clients = [x for x in got["transports"] if x["side"] == "client" and x["state"] == "reachable"
                   and not x["goaway_received"]]
        if clients:
            targets = {c["target"]: c for c in got.get("clientconns", [])}
            remote = clients[0]["remote"]
            cc = targets.get(remote) or targets.get(remote[len("unix:"):] if remote.startswith("unix:") else remote)
            t.check(cc is not None and cc["state"] == "READY" and "READY" in cc["subchannels"],
                    "%s: the ClientConn to %s is found, READY (%s)" % (name, clients[0]["remote"], got.get("clientconns")))
        unknown = [(x["address"], x["local"], x["remote"]) for x in got["transports"]
                   if "?" in (x["local"], x["remote"])]
        t.check(not unknown, "%s: every transport's addresses are known (%s)" % (name, unknown))
        scenario_checks(t, name, scen, tr, got, gor)
    t.finish()


if __name__ == "__main__":
    main()
