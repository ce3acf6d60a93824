#!/usr/bin/env python3
"""`grpcscope diff EXE CORE_EARLIER CORE_LATER` (issue 16) on the snapshots frozen twice a
second apart (stuck-or-slow: later-core next to core). TRUTH params name the goroutines of the
slow stream (they keep working) and of the stuck one (parked on flow control): their streams
must be progressed and unchanged, the goroutines moved and parked. Cores of two processes are
exit 2; a stripped copy of the executable gives the same answer."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import snapshots, truth, run, Tally  # noqa: E402


def streams_with(j, gid, when):
    return [s for s in j["streams"] if s[when] and gid in s[when]["goroutines"]]


def main():
    t = Tally("diff")
    pairs = [(p, s, d) for p, s, d in snapshots() if os.path.exists(os.path.join(d, "later-core"))]
    want = [(p, s, d) for p, s, d in snapshots() if s == "stuck-or-slow"]
    if not t.check(want and len(pairs) == len(want),
                   "every stuck-or-slow snapshot has its later core (%d of %d)" % (len(pairs), len(want))):
        t.finish()
    tmp = tempfile.mkdtemp(prefix="gs-diff-")
    try:
        for pair, scen, d in pairs:
            name = "%s/%s" % (pair, scen)
            exe, c1, c2 = (os.path.join(d, f) for f in ("exe", "core", "later-core"))
            params = truth(d)["params"]
            rc, out, err = run(["diff", "--json", exe, c1, c2])
            if not t.check(rc == 0, "%s: diff --json exits 0 (%s)" % (name, err.strip())):
                continue
            j = json.loads(out)
            t.check(j["command"] == "diff" and j["warnings"] == [], "%s: a diff object, no warnings" % name)
            # The handlers run on their streams; the client stream of the same id is the
            # other end (one connection). The stuck client sleeps outside gRPC.
            for what, gid, change in (("slow", params["slow"][1], "progressed"),
                                      ("stuck", params["stuck"][1], "unchanged")):
                ids = {s["id"] for s in streams_with(j, gid, "before") if s["side"] == "server"}
                ss = [s for s in j["streams"] if s["id"] in ids]
                t.check(len(ids) == 1 and len(ss) == 2 and all(s["change"] == change for s in ss),
                        "%s: both ends of the %s stream (handler %d) %s (%s)"
                        % (name, what, gid, change, [(s["id"], s["side"], s["change"], s["moved"]) for s in ss]))
            gs = {g["id"]: g["change"] for g in j["goroutines"]}
            t.check(all(gs.get(g) == "parked" for g in params["stuck"]),
                    "%s: the stuck goroutines stayed parked (%s)" % (name, [gs.get(g) for g in params["stuck"]]))
            t.check(all(gs.get(g) == "moved" for g in params["slow"]),
                    "%s: the slow goroutines moved (%s)" % (name, [gs.get(g) for g in params["slow"]]))
            n = len([s for s in j["streams"] if s["change"] == "unchanged"])
            t.check(j["summary"]["stuck"] == n and
                    sum(j["summary"][k] for k in ("stuck", "progressed", "new", "gone")) == len(j["streams"]),
                    "%s: the summary adds up" % name)
            rc, text, err = run(["diff", exe, c1, c2])
            t.check(rc == 0 and "2 stuck" in text and "progressed" in text,
                    "%s: the text says which streams are stuck (%s)" % (name, text.strip().splitlines()[-1:]))
            # Another process's core: not the same process.
            other = [o for p2, s2, o in snapshots() if p2 == pair and s2 == "peer-silent"]
            if other:
                rc, out, err = run(["diff", exe, c1, os.path.join(other[0], "core")])
                t.check(rc == 2 and err.count("\n") == 1 and not out,
                        "%s: cores of two processes are exit 2, one line (%d: %s)" % (name, rc, err.strip()))
            s = os.path.join(tmp, pair + "-stripped")
            subprocess.run(["objcopy", "--strip-all", exe, s], check=True)
            rc, out2, err = run(["diff", "--json", s, c1, c2])
            a = json.loads(out2) if rc == 0 else None
            t.check(a is not None and a["streams"] == j["streams"] and a["goroutines"] == j["goroutines"],
                    "%s: the stripped executable gives the same diff (%s)" % (name, err.strip()))
    finally:
        shutil.rmtree(tmp)
    t.finish()


if __name__ == "__main__":
    main()
