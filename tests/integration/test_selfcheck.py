#!/usr/bin/env python3
"""`grpcscope selfcheck` finds every required runtime field of the manifest in every fixture
binary (Go 1.19 ... 1.27), each field of the kind the manifest expects, and every constant of
the version table as the binary's DWARF and type descriptors have it; `info` reports the version the binary was
built with and where the constants came from."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import Tally, has_dwarf, run, snapshots, truth  # noqa: E402


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
        mism = ["%s.%s" % (m["type"], m["field"]) for m in res.get("mismatches", [None])]
        t.check(res.get("mismatches") == [], "%s/%s: every field of the manifest's kind%s"
                % (pair, scen, "" if not mism else " (not: %s)" % mism))
        consts = res.get("constants", [])
        bad = [c["name"] for c in consts if c["state"] not in ("ok", "unchecked")]
        dwarf = has_dwarf(exe)
        t.check(len(consts) > 40 and not bad and res.get("constants_differ") == 0 and
                any(c["state"] == "ok" for c in consts),
                "%s/%s: %d constants, none disagrees with the version table%s"
                % (pair, scen, len(consts), "" if not bad else " (%s)" % bad))
        # The kind numbers are checked against the type descriptors in every binary; without
        # DWARF the version table's, confirmed by them.
        kinds = [c for c in consts if c["name"] in ("abi.Pointer", "abi.Struct", "abi.Slice")]
        t.check(len(kinds) == 3 and all(c.get("descriptor") == c["table"] and c["state"] == "ok"
                                        and c["source"] == ("dwarf" if dwarf else "table")
                                        for c in kinds),
                "%s/%s: kind numbers checked against the type descriptors (%s)"
                % (pair, scen, [(c["name"], c.get("descriptor"), c["source"]) for c in kinds]))
        if pair not in seen:
            seen.add(pair)
            rc, out, err = run(["info", "--json", exe, core])
            info = json.loads(out) if rc == 0 else {}
            tr = truth(d)
            t.check(info.get("go_version") == tr["go"], "%s: info says %s, the program said %s"
                    % (pair, info.get("go_version"), tr["go"]))
            t.check(info.get("grpc_version") == tr["grpc"], "%s: info says grpc-go %s, the program said %s"
                    % (pair, info.get("grpc_version"), tr["grpc"]))
            src = info.get("sources", {}).get("constants", "")
            t.check(src.startswith("DWARF") if dwarf else src == "version table",
                    "%s/%s: info says the constants came from %r" % (pair, scen, src))
            detail = info.get("sources", {}).get("constants_detail", "")
            t.check(("0 of them checked" in detail) == dwarf and " from DWARF" in detail,
                    "%s/%s: info's constants_detail %r" % (pair, scen, detail))
    t.check(len(seen) > 0, "some snapshots were checked")
    t.finish()


if __name__ == "__main__":
    main()
