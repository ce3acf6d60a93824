#!/usr/bin/env python3
"""Three production hangs with no application goroutine blocked on a stream (issue 13, item 4),
on every toolchain pair that builds every scenario, read with the executable as built and with
a copy stripped by `objcopy --strip-all` (the same answers both ways):

- reader-throttled: a raw TCP peer floods SETTINGS and never reads. The server transport's
  reader is throttled by its control buffer (`reader-throttled`, blaming the loopy writer,
  with the queued response frames and the socket as evidence); the loopy writer is parked in
  the socket write (`writer-blocked`).
- graceful-stop-hang: GracefulStop waits for two handlers that never return: its verdict names
  both and blames them; the unary client waits for response headers that never came, the bidi
  client for a message after the headers — and the evidence says which.
- abandoned-stream: a ClientStream dropped without cancel holds the only stream the server
  allows: `streams` marks it, why-blocked lists it as a finding (text and JSON), and the
  stream-quota and handler verdicts it explains say so. A stream kept in a heap struct (a
  holder pointing to the application's stub) by a parked goroutine is not marked.

Each snapshot is compared with its TRUTH (verdicts, chains, evidence, findings). A missing
snapshot is a failure."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import OUT, ROOT, Tally, run, truth  # noqa: E402
from test_stripped import first_difference, normalise, strip_copy  # noqa: E402

SCENARIOS = ("reader-throttled", "graceful-stop-hang", "abandoned-stream")


def full_pairs():
    """The matrix rows that build every scenario."""
    pairs = []
    with open(os.path.join(ROOT, "fixtures", "matrix")) as f:
        for line in f:
            w = line.split()
            if w and not line.startswith("#") and (len(w) < 5 or w[4] == "all"):
                pairs.append(w[0])
    return pairs


def json_run(t, name, args):
    rc, out, err = run(args + ["--json"])
    if not t.check(rc == 0, "%s: %s exits 0 (%s)" % (name, " ".join(args[:2]), err.strip()[:200])):
        return None
    return json.loads(out)


def has(evidence, *words):
    return any(all(w in e for w in words) for e in evidence)


def check_verdicts(t, name, tr, got):
    """Every TRUTH goroutine gets its verdict and chain; a `none` gets no verdict."""
    mine = {v["goroutine"]: v for v in got["verdicts"]}
    for g in tr["goroutines"]:
        v = mine.get(g["id"])
        if g["verdict"] == "none":
            t.check(v is None, "%s: goroutine %d (%s) gets no verdict" % (name, g["id"], g["role"]))
            continue
        if not t.check(v is not None, "%s: goroutine %d (%s) has a verdict" % (name, g["id"], g["role"])):
            continue
        t.check(v["verdict"] == g["verdict"], "%s: goroutine %d (%s) is %s (want %s): %s"
                % (name, g["id"], g["role"], v["verdict"], g["verdict"], v["summary"]))
        t.check(set(g["blames"]) <= set(v["chain"]), "%s: goroutine %d's chain %s names %s"
                % (name, g["id"], v["chain"], g["blames"]))
    return mine


def role(tr, r):
    return [g["id"] for g in tr["goroutines"] if g["role"] == r][0]


def check_throttled(t, name, tr, mine, streams):
    reader, loopy = role(tr, "reader-throttled"), role(tr, "loopy-write")
    server, limit = tr["params"]["server"], tr["params"]["max_queued_response_frames"]
    ts = [x for x in streams["transports"] if x["side"] == "server" and x["local"] == server]
    if not t.check(len(ts) == 1, "%s: one server transport on %s" % (name, server)):
        return
    cb = ts[0]["control_buffer"]
    t.check(cb["reader_throttled"] and cb["response_frames"] >= limit,
            "%s: streams shows the reader throttled, %d response frames queued (limit %d)"
            % (name, cb["response_frames"], limit))
    rv, lv = mine.get(reader), mine.get(loopy)
    if rv:
        ev = rv["evidence"]
        t.check(has(ev, "%d of them transport response frames" % cb["response_frames"]),
                "%s: reader's evidence counts the queued response frames" % name)
        t.check(has(ev, "loopy writer: goroutine %d" % loopy, "socket fd %d" % ts[0]["fd"]),
                "%s: reader's evidence names the loopy goroutine %d and its write on fd %d"
                % (name, loopy, ts[0]["fd"]))
        t.check(server in rv["summary"] and "loopy writer is blocked writing to the socket" in rv["summary"],
                "%s: reader's summary names the transport and the blocked writer" % name)
    if lv:
        t.check(has(lv["evidence"], "its reader, goroutine %d, is throttled" % reader),
                "%s: loopy's evidence names the throttled reader %d" % (name, reader))
        t.check("fd %d" % ts[0]["fd"] in lv["summary"] and tr["params"]["peer"] in lv["summary"],
                "%s: loopy's summary names the socket and the peer that does not read" % name)


def check_graceful(t, name, tr, mine, streams):
    stopper = role(tr, "graceful-stop")
    handlers = tr["params"]["handlers"]
    v = mine.get(stopper)
    if v:
        t.check("GracefulStop" in v["summary"] and "%d handlers" % len(handlers) in v["summary"],
                "%s: the stopper's summary says GracefulStop waits for %d handlers" % (name, len(handlers)))
        for h in handlers:
            t.check(has(v["evidence"], "handler goroutine %d has not returned" % h),
                    "%s: the stopper's evidence names handler %d" % (name, h))
    hv, mv = mine.get(role(tr, "client-unary-headers")), mine.get(role(tr, "client-recv"))
    if hv:
        t.check(has(hv["evidence"], "no response headers yet") and "response headers" in hv["summary"],
                "%s: the unary client waits for the response headers, said so" % name)
    if mv:
        t.check(has(mv["evidence"], "response headers received") and not has(mv["evidence"], "no response headers"),
                "%s: the bidi client waits for a message after the headers, said so" % name)
    seen = {s["method"].rsplit("/", 1)[-1]: s["header_received"]
            for x in streams["transports"] for s in x["streams"] if s["side"] == "client"}
    t.check(seen == {"Unary": False, "Bidi": True},
            "%s: streams shows headers received on the bidi stream only (%s)" % (name, seen))


def check_abandoned(t, name, tr, mine, streams, got, exe, core):
    want = tr["params"]["abandoned"][0]
    marked = [(x["address"], s["id"], s["method"]) for x in streams["transports"] for s in x["streams"]
              if s.get("abandoned")]
    t.check([(m[1], m[2]) for m in marked] == [(want["id"], want["method"])],
            "%s: streams marks client stream %d %s abandoned, nothing else (%s)"
            % (name, want["id"], want["method"], marked))
    # The control: a stream kept in a heap struct two pointers from its goroutine's stack.
    kept = tr["params"]["kept"]
    found = [s for x in streams["transports"] for s in x["streams"]
             if s["side"] == "client" and s["id"] == kept["id"] and s["method"] == kept["method"]]
    t.check(len(found) == 1 and found[0]["abandoned"] is False,
            "%s: the stream kept in a holder struct (client stream %d) is not abandoned" % (name, kept["id"]))
    f = got.get("findings", [])
    if t.check(len(f) == 1 and f[0]["finding"] == "abandoned-stream",
               "%s: why-blocked has one finding, abandoned-stream (%s)" % (name, [x["finding"] for x in f])):
        s = f[0]["stream"]
        t.check((s["side"], s["id"], s["method"]) == ("client", want["id"], want["method"]),
                "%s: the finding is client stream %d" % (name, want["id"]))
        concerned = {role(tr, "newstream-quota"), role(tr, "server-recv")}
        t.check(concerned <= set(f[0]["goroutines"]), "%s: the finding concerns the quota waiter and the handler %s"
                % (name, sorted(concerned)))
        t.check(has(f[0]["evidence"], "no goroutine refers to it") and has(f[0]["evidence"], "context not done"),
                "%s: the finding's evidence says why it is abandoned" % name)
    for r in ("newstream-quota", "server-recv"):
        v = mine.get(role(tr, r))
        if v:
            t.check(has(v["evidence"], "client stream %d" % want["id"], "is abandoned"),
                    "%s: the %s verdict's evidence names the abandoned stream" % (name, r))
    rc, out, err = run(["streams", exe, core])
    t.check(rc == 0 and out.count("ABANDONED") == 1, "%s: streams text marks one stream ABANDONED" % name)
    rc, out, err = run(["why-blocked", exe, core])
    t.check(rc == 0 and "[F1] abandoned-stream" in out, "%s: why-blocked text lists the finding" % name)


def check_snapshot(t, name, scen, exe, core, tr):
    """The checks of one run; returns the JSON answers for the stripped comparison."""
    got = json_run(t, name, ["why-blocked", exe, core])
    streams = json_run(t, name, ["streams", exe, core])
    if got is None or streams is None:
        return None
    mine = check_verdicts(t, name, tr, got)
    if scen == "reader-throttled":
        check_throttled(t, name, tr, mine, streams)
    elif scen == "graceful-stop-hang":
        check_graceful(t, name, tr, mine, streams)
    else:
        check_abandoned(t, name, tr, mine, streams, got, exe, core)
    return {"why-blocked": got, "streams": streams}


def main():
    t = Tally("hangs-server")
    tmp = tempfile.mkdtemp(prefix="gs-hangs.")
    try:
        for pair in full_pairs():
            for scen in SCENARIOS:
                d = os.path.join(OUT, pair, scen)
                name = "%s/%s" % (pair, scen)
                exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
                if not t.check(os.path.exists(core) and os.path.exists(exe),
                               "%s: snapshot exists%s" % (name, " (FAILED: %s)" % open(os.path.join(d, "FAILED")).read().strip()
                                                         if os.path.exists(os.path.join(d, "FAILED")) else "")):
                    continue
                tr = truth(d)
                a = check_snapshot(t, name, scen, exe, core, tr)
                sexe = os.path.join(tmp, "%s-%s" % (pair, scen))
                try:
                    strip_copy(exe, sexe)
                except RuntimeError as e:
                    t.fail("%s: %s" % (name, e))
                    continue
                b = check_snapshot(t, name + " (stripped)", scen, sexe, core, tr)
                if a and b:
                    for k in a:
                        diff = first_difference(normalise(a[k], {sexe: exe}), normalise(b[k], {sexe: exe}))
                        t.check(diff is None, "%s: %s equal with the stripped executable%s"
                                % (name, k, "" if diff is None else ": " + diff))
                os.unlink(sexe)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t.finish()


if __name__ == "__main__":
    main()
