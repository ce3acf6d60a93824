#!/usr/bin/env python3
"""`grpcscope goroutines` agrees with delve on every fixture snapshot: the same goroutine
ids, the same wait reasons and the same top user function; the TRUTH goroutines show their
expected wait and, for channel and sync waits, the object they wait on. For executables
without DWARF, which delve cannot read, the Go runtime's own goroutine dump taken after the
core (runtime-goroutines.txt) is the oracle instead."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import Tally, goroutine_oracle, run_json, runtime_own, snapshots, truth, woke_after_core  # noqa: E402

WAIT_KINDS = {"chan receive": "chan", "chan send": "chan", "select": "select",
              "sync.Mutex.Lock": "semaphore", "sync.RWMutex.Lock": "semaphore",
              "sync.RWMutex.RLock": "semaphore", "sync.WaitGroup.Wait": "semaphore",
              "semacquire": "semaphore", "IO wait": "netpoll"}


def main():
    t = Tally("goroutines")
    snaps = snapshots()
    t.check(len(snaps) > 0, "snapshots exist under fixtures/out (run make fixtures)")
    for pair, scen, d in snaps:
        name = "%s/%s" % (pair, scen)
        if os.path.exists(os.path.join(d, "FAILED")):
            t.fail("%s: snapshot failed to build: %s" % (name, open(os.path.join(d, "FAILED")).read().strip()))
            continue
        missing = [f for f in ("exe", "core", "truth.json", "dlv-goroutines.txt")
                   if not os.path.exists(os.path.join(d, f))]
        if missing:
            t.fail("%s: incomplete snapshot, missing %s" % (name, ", ".join(missing)))
            continue
        try:
            got = run_json(["goroutines", os.path.join(d, "exe"), os.path.join(d, "core")])
        except Exception as e:  # noqa: BLE001 - any failure is a test failure
            t.fail("%s: %s" % (name, e))
            continue
        ours = {g["id"]: g for g in got["goroutines"]}
        oracle, dlv = goroutine_oracle(d)
        # delve also lists _Gdeadextra goroutines (Go 1.26+), which the runtime never prints;
        # we report them under not_shown, so they must be exactly delve's extra ones.
        hidden = {h["id"] for h in got.get("not_shown", []) if h["status"] == "deadextra"}
        if oracle == "delve":
            t.check(hidden <= set(dlv), "%s: not_shown goroutines %s are in delve's list" % (name, sorted(hidden)))
        else:
            t.check(not hidden & set(dlv), "%s: not_shown goroutines %s are not in the runtime dump"
                    % (name, sorted(hidden & set(dlv))))
        dlv = {k: v for k, v in dlv.items() if k not in hidden}
        # The dump comes a moment after the core: the runtime's own goroutines are compared by
        # presence only (snapshots.runtime_own).
        moving = {i for i, v in dlv.items() if oracle != "delve" and
                  (runtime_own(v["function"]) or runtime_own(ours.get(i, {}).get("top_function")) or
                   woke_after_core(v["reason"]))}
        t.check(set(ours) == set(dlv), "%s: goroutine ids equal %s's (%d ours, %d %s; only ours %s, only %s %s)"
                % (name, oracle, len(ours), len(dlv), oracle, sorted(set(ours) - set(dlv))[:5], oracle,
                   sorted(set(dlv) - set(ours))[:5]))
        # delve prints no wait reason for a goroutine the GC marked leaked (not _Gwaiting)
        bad_reason = [i for i in dlv if i in ours and i not in moving and ours[i]["wait_reason"] != dlv[i]["reason"]
                      and not (oracle == "delve" and ours[i]["status"] == "leaked" and dlv[i]["reason"] == "")]
        t.check(not bad_reason, "%s: wait reasons equal %s's%s" % (name, oracle, "" if not bad_reason else
                " (differ: %s)" % ["%d ours=%r %s=%r" % (i, ours[i]["wait_reason"], oracle, dlv[i]["reason"])
                                   for i in bad_reason[:3]]))
        bad_fn = [i for i in dlv if i in ours and i not in moving and ours[i]["top_function"] != dlv[i]["function"]]
        t.check(not bad_fn, "%s: top user functions equal %s's%s" % (name, oracle, "" if not bad_fn else
                " (differ: %s)" % ["%d ours=%r %s=%r" % (i, ours[i]["top_function"], oracle, dlv[i]["function"])
                                   for i in bad_fn[:3]]))
        bad_line = [i for i in dlv if i in ours and i not in moving and ours[i]["top_function"] == dlv[i]["function"]
                    and dlv[i]["line"] is not None and ours[i].get("top_line") != dlv[i]["line"]]
        t.check(not bad_line, "%s: top user lines equal %s's%s" % (name, oracle, "" if not bad_line else
                " (differ: %s)" % ["%d ours=%r %s=%r" % (i, ours[i].get("top_line"), oracle, dlv[i]["line"])
                                   for i in bad_line[:3]]))
        nocreator = [i for i, g in ours.items() if i != 1 and not g.get("created_by")]
        t.check(not nocreator, "%s: every goroutine but 1 has a creator (missing: %s)" % (name, nocreator[:5]))
        if scen.startswith("peer-silent"):
            cr = [g["created_by"]["function"] for g in ours.values()
                  if g["top_function"].endswith("readMessageHeaderClient") or g["top_function"].endswith("readClient")]
            t.check(cr == ["main.main"], "%s: the client receiver was created by main.main (%s)" % (name, cr))
        tr = truth(d)
        for tg in tr["goroutines"]:
            g = ours.get(tg["id"])
            if not t.check(g is not None, "%s: TRUTH goroutine %d (%s) found" % (name, tg["id"], tg["role"])):
                continue
            t.check(g["wait_reason"] == tg["wait"], "%s: goroutine %d waits [%s] (TRUTH [%s])"
                    % (name, tg["id"], g["wait_reason"], tg["wait"]))
            kind = WAIT_KINDS.get(tg["wait"])
            if kind:
                kinds = [w["kind"] for w in g["waiting_on"]]
                t.check(kind in kinds and all(w["address"] != "0x0" for w in g["waiting_on"] if w["kind"] == kind),
                        "%s: goroutine %d waits on a %s (got %s)" % (name, tg["id"], kind, g["waiting_on"]))
    t.finish()


if __name__ == "__main__":
    main()
