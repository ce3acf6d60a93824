#!/usr/bin/env python3
"""Real third-party programs from Debian's archive, stripped as Debian ships them: grpcscope
against the Go runtime's own goroutine dump (fixtures/thirdparty/, README "Third-party").

For every program of fixtures/thirdparty/programs (or of GS_THIRDPARTY="name ..."), snapshot fixtures/out-thirdparty/NAME/
(GS_THIRDPARTY_OUT), and for each of its two processes (client: exe/core, server:
peer-exe/peer-core):
  - truth.json agrees with the dump it was derived from (ids, wait reasons, functions);
  - goroutines --json: the same goroutine ids as the dump, the same status and wait reason
    per id, the same top user function (the first physical frame outside the private
    runtime; the innermost frame when there is none);
  - streams --json: a stream of the recorded method on that side;
  - why-blocked --json GOID...: the recorded verdict for the client's receiver and the
    server's handler (and its receivers), with "no response headers yet" among the
    evidence of a client that never got headers;
  - info --json: the Go version of the binary's build info, and a grpc-go version that, when
    given (and always when the binary holds grpc-go's user-agent string), is the one of the
    package's (Static-)Built-Using;
and across the two: why-blocked on the client with --peer the server: its peer_chain names
the server's handler.

  test_thirdparty.py                      every snapshot
  test_thirdparty.py --process EXE CORE DUMP
        only the goroutine comparison, for any core whose process printed DUMP after gcore
"""
import json
import os
import sys

from snapshots import ROOT, Tally, run_json

sys.path.insert(0, os.path.join(ROOT, "fixtures", "thirdparty"))
import godump  # noqa: E402

TP = os.path.realpath(os.environ.get("GS_THIRDPARTY_OUT", os.path.join(ROOT, "fixtures", "out-thirdparty")))
SIDE = {"client": "client", "server": "server"}


def programs():
    with open(os.path.join(ROOT, "fixtures", "thirdparty", "programs")) as f:
        return [ln.split()[0] for ln in f if ln.strip() and not ln.startswith("#")]


def short(ids, n=8):
    ids = sorted(ids)
    return ", ".join(map(str, ids[:n])) + (" …" if len(ids) > n else "")


def compare_goroutines(t, label, dump, listing):
    """The dump ({id: godump.Goroutine}) against goroutines --json."""
    got = {g["id"]: g for g in listing["goroutines"]}
    missing, extra = set(dump) - set(got), set(got) - set(dump)
    t.check(not missing and not extra,
            "%s: goroutine ids as in the runtime's dump (%d)%s%s" % (
                label, len(dump), "; missing: " + short(missing) if missing else "",
                "; not in the dump: " + short(extra) if extra else ""))
    bad_state, bad_fn = [], []
    for goid in sorted(set(dump) & set(got)):
        d, g = dump[goid], got[goid]
        if d.stack_unavailable and d.status == "running":
            # Running on another thread when the dump was printed: the process had been
            # continued for the SIGQUIT, so only "not parked" can be compared.
            if g["status"] not in ("running", "runnable", "syscall"):
                bad_state.append("%d: dump running, grpcscope %s" % (goid, g["status"]))
            continue
        want_wait = d.wait_reason if d.status == "waiting" else ""
        if g["status"] != d.status or (g.get("wait_reason") or "") != want_wait:
            bad_state.append("%d: dump %s/%r, grpcscope %s/%r" % (
                goid, d.status, want_wait, g["status"], g.get("wait_reason")))
        if d.frames and g.get("top_function") != d.top_function():
            bad_fn.append("%d: dump %s, grpcscope %s" % (goid, d.top_function(), g.get("top_function")))
    t.check(not bad_state, "%s: status and wait reason per goroutine%s" % (
        label, "".join("\n       " + b for b in bad_state[:10])))
    t.check(not bad_fn, "%s: top user function per goroutine%s" % (
        label, "".join("\n       " + b for b in bad_fn[:10])))


def check_truth_against_dump(t, label, truth, proc, dump):
    for e in truth["goroutines"]:
        if e["process"] != proc:
            continue
        d = dump.get(e["id"])
        t.check(d is not None and d.wait_reason == e["wait"] and d.top_function() == e["function"],
                "%s: truth goroutine %d (%s) as in the dump" % (label, e["id"], e["role"]))


def check_streams(t, label, streams, side, method):
    found = [s for tr in streams.get("transports", []) if tr.get("side") == side
             for s in tr.get("streams", []) if s.get("method") == method]
    t.check(len(found) > 0, "%s: streams lists a %s stream %s" % (label, side, method))


def check_verdicts(t, label, wb, entries):
    got = {v["goroutine"]: v for v in wb.get("verdicts", [])}
    for e in entries:
        v = got.get(e["id"])
        if not t.check(v is not None and v["verdict"] == e["verdict"],
                       "%s: goroutine %d (%s) -> %s (got %s)" % (
                           label, e["id"], e["role"], e["verdict"], v and v["verdict"])):
            continue
        st = v.get("stream") or {}
        t.check(st.get("method") == e["stream"]["method"] and st.get("side") == e["stream"]["side"],
                "%s: goroutine %d's verdict names its %s stream %s" % (
                    label, e["id"], e["stream"]["side"], e["stream"]["method"]))
        for ev in e.get("evidence", []):
            t.check(any(ev.lower() in x.lower() for x in v.get("evidence", [])),
                    "%s: goroutine %d's evidence says %r" % (label, e["id"], ev))


def norm_version(v):
    v = (v or "").lstrip("v")
    return v[:-4] if v.endswith("-dev") else v


def check_info(t, label, info, exe, pinfo, truth):
    bi = godump.buildinfo(exe)
    t.check(bi is not None and info.get("go_version") == bi["go"] == pinfo["go"],
            "%s: info Go version %s (build info %s)" % (label, info.get("go_version"), bi and bi["go"]))
    gv = norm_version(info.get("grpc_version"))
    if pinfo.get("grpc_user_agent") or gv:
        t.check(gv == truth["grpc"],
                "%s: info grpc-go version %r is the package's Built-Using %s" % (
                    label, info.get("grpc_version"), truth["grpc"]))
    else:
        t.ok("%s: info grpc-go version unknown (server-only binary without grpc-go's user-agent "
             "string; Built-Using %s)" % (label, truth["grpc"]))


def check_snapshot(t, name):
    d = os.path.join(TP, name)
    if not os.path.isdir(d):
        t.fail("%s: no snapshot in %s (run make fixtures)" % (name, d))
        return
    if os.path.exists(os.path.join(d, "FAILED")):
        with open(os.path.join(d, "FAILED")) as f:
            t.fail("%s: snapshot failed: %s" % (name, f.read().strip()))
        return
    try:
        with open(os.path.join(d, "truth.json")) as f:
            truth = json.load(f)
    except (OSError, ValueError) as e:
        t.fail("%s: truth.json: %s" % (name, e))
        return
    method = truth["method"]
    for proc in ("client", "server"):
        p = truth["processes"][proc]
        label = "%s/%s" % (name, proc)
        exe, core = os.path.join(d, p["exe"]), os.path.join(d, p["core"])
        try:
            with open(os.path.join(d, p["dump"]), errors="replace") as f:
                dump = godump.parse(f.read())
        except (OSError, ValueError) as e:
            t.fail("%s: goroutine dump: %s" % (label, e))
            continue
        check_truth_against_dump(t, label, truth, proc, dump)
        entries = [e for e in truth["goroutines"] if e["process"] == proc]
        for what, fn in (
                ("goroutines", lambda: compare_goroutines(
                    t, label, dump, run_json(["goroutines", exe, core]))),
                ("streams", lambda: check_streams(
                    t, label, run_json(["streams", exe, core]), SIDE[proc], method)),
                ("why-blocked", lambda: check_verdicts(
                    t, label, run_json(["why-blocked"] + [str(e["id"]) for e in entries] + [exe, core]),
                    entries)),
                ("info", lambda: check_info(t, label, run_json(["info", exe, core]), exe, p, truth))):
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - a failing command is a test failure
                t.fail("%s: %s: %s" % (label, what, e))
    # Across the two processes: the client's wait leads to the server's handler.
    peer = truth["processes"]["server"]
    for e in truth["goroutines"]:
        if e["process"] != "client" or not e.get("peer_blames"):
            continue
        try:
            wb = run_json(["why-blocked", str(e["id"]), "--peer", os.path.join(d, peer["exe"]),
                           os.path.join(d, peer["core"]), os.path.join(d, "exe"),
                           os.path.join(d, "core")])
            v = next((v for v in wb.get("verdicts", []) if v["goroutine"] == e["id"]), {})
            chain = set(v.get("peer_chain", []))
            t.check(set(e["peer_blames"]) <= chain,
                    "%s: with --peer, client goroutine %d's peer chain names server goroutine %s (got %s)" % (
                        name, e["id"], short(e["peer_blames"]), short(chain) or "none"))
        except Exception as ex:  # noqa: BLE001
            t.fail("%s: why-blocked --peer: %s" % (name, ex))


def main():
    t = Tally("test_thirdparty")
    if len(sys.argv) == 5 and sys.argv[1] == "--process":
        exe, core, dpath = sys.argv[2:]
        try:
            with open(dpath, errors="replace") as f:
                text = f.read()
            dump = godump.parse(godump.dump_text(text) or text)
            compare_goroutines(t, os.path.basename(os.path.dirname(os.path.abspath(core))) or core,
                               dump, run_json(["goroutines", exe, core]))
        except Exception as e:  # noqa: BLE001
            t.fail("%s: %s" % (dpath, e))
        t.finish()
    if len(sys.argv) != 1:
        print("\n".join(__doc__.strip().splitlines()[-4:]), file=sys.stderr)
        sys.exit(2)
    names = os.environ.get("GS_THIRDPARTY", "").split() or programs()
    t.check(len(names) >= 2, "at least two third-party programs (%s)" % ", ".join(names))
    for name in names:
        check_snapshot(t, name)
    t.finish()


if __name__ == "__main__":
    main()
