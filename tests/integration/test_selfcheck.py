#!/usr/bin/env python3
"""`grpcscope selfcheck` finds every required runtime field of the manifest in every fixture
binary (Go 1.19 ... 1.27), and `info` reports the version the binary was built with."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import Tally, run, snapshots, truth  # noqa: E402


def main():
    t = Tally("selfcheck")
    seen = set()
    for pair, scen, d in snapshots():
        exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
        if not (os.path.exists(exe) and os.path.exists(core)):
            t.fail("%s/%s: incomplete snapshot" % (pair, scen))
            continue
        rc, out, err = run(["selfcheck", "--json", exe, core])
        try:
            res = json.loads(out)
        except ValueError:
            t.fail("%s/%s: selfcheck gave no JSON (exit %d): %s" % (pair, scen, rc, err.strip()))
            continue
        missing = [f["type"] + "." + f["field"] for f in res["fields"] if f["state"] == "MISSING"]
        t.check(rc == 0 and not missing, "%s/%s: all required runtime fields found%s"
                % (pair, scen, "" if not missing else " (missing %s)" % missing))
        if pair not in seen:
            seen.add(pair)
            rc, out, err = run(["info", "--json", exe, core])
            info = json.loads(out) if rc == 0 else {}
            tr = truth(d)
            t.check(info.get("go_version") == tr["go"], "%s: info says %s, the program said %s"
                    % (pair, info.get("go_version"), tr["go"]))
            t.check(info.get("grpc_version") == tr["grpc"], "%s: info says grpc-go %s, the program said %s"
                    % (pair, info.get("grpc_version"), tr["grpc"]))
    t.check(len(seen) > 0, "some snapshots were checked")
    t.finish()


if __name__ == "__main__":
    main()
