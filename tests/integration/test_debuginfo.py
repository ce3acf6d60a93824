#!/usr/bin/env python3
"""Separate debug info, found the way gdb finds it, on the peer-silent snapshot of every
toolchain pair: the executable split by objcopy into a stripped copy and its debug file.

(a) --debug-file gives the unstripped executable's goroutines, streams and verdicts;
(b) the .gnu_debuglink next to the executable is followed (CRC checked);
(c) DIR/.build-id/xx/rest.debug is found in a debug directory given by --debug-dir or
    GRPCSCOPE_DEBUG_DIR (executables with a GNU build id: Go 1.24+ writes one always);
(d) a debug file of another build is rejected: a warning when found by the search, exit 2
    naming it when given with --debug-file (--force uses it anyway);
(e) a local debuginfod server (Debian's debuginfod, in a network namespace of its own where
    only loopback exists) serves the debug file through DEBUGINFOD_URLS.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import snapshots as S  # noqa: E402

COMMANDS = ["goroutines", "streams", "why-blocked"]
SCENARIO = "peer-silent"


def env_with(**kw):
    e = dict(os.environ)
    e.pop("DEBUGINFOD_URLS", None)
    for k, v in kw.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return e


def gs(args, env, timeout=180):
    p = subprocess.run([S.GRPCSCOPE] + args, capture_output=True, text=True, timeout=timeout,
                       env=env)
    return p.returncode, p.stdout, p.stderr


def gs_json(args, env):
    rc, out, err = gs(args + ["--json"], env)
    if rc != 0:
        raise RuntimeError("grpcscope %s: exit %d: %s" % (" ".join(args), rc, err.strip()))
    return json.loads(out)


def sh(args, cwd=None):
    subprocess.run(args, check=True, cwd=cwd, capture_output=True)


def has_debug_info(path):
    out = subprocess.run(["readelf", "-S", "-W", path], capture_output=True, text=True).stdout
    return re.search(r"\]\s+\.z?debug_info\s+PROGBITS", out) is not None


def go_at_least(version, major, minor):
    m = re.match(r"go(\d+)\.(\d+)", version or "")
    return bool(m) and (int(m.group(1)), int(m.group(2))) >= (major, minor)


# ---- (e): runs inside `unshare --net`, where only loopback exists -------------------------

def debuginfod_child(srv, tmp, build_id, exe, core, port):
    """Starts debuginfod on srv, waits until it serves build_id, asks grpcscope through it;
    prints {"info": ..., "results": {cmd: json}} or {"error": ...} on stdout."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    log = open(os.path.join(tmp, "debuginfod.log"), "w")
    server = subprocess.Popen(["debuginfod", "-F", "-p", str(port), "-t", "0", "-g", "0",
                               "-d", os.path.join(tmp, "debuginfod.sqlite"), srv],
                              stdout=log, stderr=subprocess.STDOUT)
    url = "http://127.0.0.1:%d" % port
    res = {}
    try:
        # Ask the server itself, not through libdebuginfod: its client caches a miss.
        deadline, ready = time.time() + 60, False
        while time.time() < deadline and not ready:
            try:
                with urllib.request.urlopen("%s/buildid/%s/debuginfo" % (url, build_id),
                                            timeout=5) as r:
                    ready = r.status == 200
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        if not ready:
            res["error"] = "debuginfod did not serve %s within 60 s" % build_id
        else:
            env = env_with(DEBUGINFOD_URLS=url,
                           DEBUGINFOD_CACHE_PATH=os.path.join(tmp, "debuginfod-cache"),
                           GRPCSCOPE_DEBUG_DIR=os.path.join(tmp, "empty"))
            res["info"] = gs_json(["info", exe, core], env)
            res["results"] = {c: gs_json([c, exe, core], env) for c in COMMANDS}
    except Exception as e:  # noqa: BLE001 - reported to the parent as a failure
        res["error"] = str(e)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    print(json.dumps(res))


def via_debuginfod(t, name, tmp, build_id, dbg, exe, core, ref):
    if not shutil.which("debuginfod") or not shutil.which("unshare"):
        t.fail("%s: (e) debuginfod or unshare missing (make deps installs debuginfod)" % name)
        return
    srv = os.path.join(tmp, "srv")
    os.makedirs(srv)
    shutil.copy(dbg, os.path.join(srv, "exe.debug"))
    os.makedirs(os.path.join(tmp, "empty"), exist_ok=True)
    p = subprocess.run(["unshare", "--net", sys.executable, os.path.abspath(__file__),
                        "--debuginfod-child", srv, tmp, build_id, exe, core, "8002"],
                       capture_output=True, text=True, timeout=600)
    try:
        res = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        t.fail("%s: (e) debuginfod run: exit %d: %s" % (name, p.returncode, p.stderr.strip()[-500:]))
        return
    if "error" in res:
        t.fail("%s: (e) %s" % (name, res["error"]))
        return
    df = res["info"].get("debug_file") or {}
    t.check(df.get("found_by") == "debuginfod" and
            df.get("path", "").startswith(os.path.join(tmp, "debuginfod-cache")),
            "%s: (e) found through debuginfod (%s)" % (name, df))
    for c in COMMANDS:
        t.check(res["results"][c] == ref[c], "%s: (e) %s through debuginfod equals the DWARF run"
                % (name, c))


# ---- the parent --------------------------------------------------------------------------

def other_build(pair_dir):
    """An executable of another build (another scenario, same toolchain pair)."""
    for scen in sorted(os.listdir(pair_dir)):
        exe = os.path.join(pair_dir, scen, "exe")
        if scen != SCENARIO and os.path.isfile(exe) and has_debug_info(exe):
            return exe
    return None


def check_pair(t, pair, d):
    name = "%s/%s" % (pair, SCENARIO)
    orig, core = os.path.join(d, "exe"), os.path.join(d, "core")
    tmp = tempfile.mkdtemp(prefix="gs_debuginfo_")
    try:
        empty = os.path.join(tmp, "empty")
        os.makedirs(empty)
        env = env_with(GRPCSCOPE_DEBUG_DIR=empty)
        dbg, exe, nolink = (os.path.join(tmp, n) for n in ("exe.debug", "exe", "nolink"))
        sh(["objcopy", "--only-keep-debug", orig, dbg])
        sh(["objcopy", "--strip-all", "--add-gnu-debuglink=exe.debug", orig, exe], cwd=tmp)
        sh(["objcopy", "--strip-all", orig, nolink])
        if not t.check(has_debug_info(orig) and has_debug_info(dbg) and
                       not has_debug_info(exe) and not has_debug_info(nolink),
                       "%s: objcopy split the DWARF off" % name):
            return
        info = gs_json(["info", orig, core], env)
        t.check(info.get("debug_info") == "executable" and info.get("debug_file") is None,
                "%s: the unstripped executable's own DWARF is used" % name)
        ref = {c: gs_json([c, orig, core], env) for c in COMMANDS}

        # (a) --debug-file
        for c in COMMANDS:
            t.check(gs_json([c, "--debug-file", dbg, exe, core], env) == ref[c],
                    "%s: (a) %s with --debug-file equals the DWARF run" % (name, c))
        df = gs_json(["info", "--debug-file", dbg, exe, core], env).get("debug_file") or {}
        t.check(df.get("found_by") == "--debug-file", "%s: (a) info says --debug-file" % name)

        # (b) debuglink next to the executable
        df = gs_json(["info", exe, core], env).get("debug_file") or {}
        t.check(df.get("found_by") == "debuglink" and
                os.path.realpath(df.get("path", "")) == os.path.realpath(dbg),
                "%s: (b) the debuglink is followed (%s)" % (name, df))
        t.check(gs_json(["streams", exe, core], env) == ref["streams"],
                "%s: (b) streams through the debuglink equal the DWARF run" % name)
        rc, out, err = gs(["info", exe, core], env)
        t.check(rc == 0 and "debug info:   %s (debuglink)" % df.get("path") in out,
                "%s: (b) text info names the debug file" % name)
        # ... and its other two places: EXEDIR/.debug/LINK, DEBUGDIR/EXEDIR/LINK
        b, dd = os.path.join(tmp, "b"), os.path.join(tmp, "dd")
        os.makedirs(b)
        shutil.copy(exe, os.path.join(b, "exe"))
        for place, args in ((os.path.join(b, ".debug", "exe.debug"), []),
                            (dd + os.path.join(b, "exe.debug"), ["--debug-dir", dd])):
            os.makedirs(os.path.dirname(place))
            shutil.copy(dbg, place)
            df = gs_json(["info"] + args + [os.path.join(b, "exe"), core], env).get("debug_file")
            t.check(df == {"path": place, "found_by": "debuglink"},
                    "%s: (b) the debuglink is followed to %s (%s)" % (name, place, df))
            os.remove(place)

        # (c) build-id directory
        build_id = info.get("gnu_build_id")
        if go_at_least(info.get("go_version"), 1, 24):
            t.check(build_id is not None, "%s: (c) Go 1.24+ wrote a GNU build id" % name)
        if build_id:
            ids = os.path.join(tmp, "debugdir")
            target = os.path.join(ids, ".build-id", build_id[:2], build_id[2:] + ".debug")
            os.makedirs(os.path.dirname(target))
            shutil.copy(dbg, target)
            df = gs_json(["info", "--debug-dir", empty, "--debug-dir", ids, nolink, core],
                         env).get("debug_file") or {}
            t.check(df == {"path": target, "found_by": "build-id directory"},
                    "%s: (c) found in the build-id directory of --debug-dir (%s)" % (name, df))
            env_ids = env_with(GRPCSCOPE_DEBUG_DIR=ids)
            df = gs_json(["info", nolink, core], env_ids).get("debug_file") or {}
            t.check(df.get("found_by") == "build-id directory",
                    "%s: (c) found through GRPCSCOPE_DEBUG_DIR" % name)
            t.check(gs_json(["why-blocked", nolink, core], env_ids) == ref["why-blocked"],
                    "%s: (c) why-blocked through the build-id directory equals the DWARF run"
                    % name)
        else:
            print("note %s: no GNU build id (Go before 1.24, internal link): (c), (e) do not apply"
                  % name)

        # (d) another build's debug file
        other = other_build(os.path.dirname(d))
        if not t.check(other is not None, "%s: (d) another build of the pair exists" % name):
            return
        wrong_dir = os.path.join(tmp, "wrong")
        os.makedirs(wrong_dir)
        wrong_dbg, wrong_exe = os.path.join(wrong_dir, "exe.debug"), os.path.join(wrong_dir, "exe")
        sh(["objcopy", "--only-keep-debug", other, wrong_dbg])
        shutil.copy(exe, wrong_exe)  # its debuglink names exe.debug, which is now another's
        rc, out, err = gs(["info", "--json", wrong_exe, core], env)
        t.check(wrong_dbg in err and "not used as debug file" in err,
                "%s: (d) the other build's debug file is rejected with a warning naming it (%s)"
                % (name, err.strip()[:300]))
        if rc == 0:  # the type-descriptor fallback read the executable itself
            t.check(json.loads(out).get("debug_file") is None,
                    "%s: (d) no debug file is used" % name)
        if build_id:  # the same under the build id: another build's id
            ids2 = os.path.join(tmp, "debugdir2")
            target = os.path.join(ids2, ".build-id", build_id[:2], build_id[2:] + ".debug")
            os.makedirs(os.path.dirname(target))
            shutil.copy(wrong_dbg, target)
            rc, out, err = gs(["info", "--json", "--debug-dir", ids2, nolink, core], env)
            t.check(target in err and "GNU build id" in err,
                    "%s: (d) another build under the build id is rejected with a warning (%s)"
                    % (name, err.strip()[:300]))
        rc, out, err = gs(["info", "--debug-file", wrong_dbg, exe, core], env)
        t.check(rc == 2 and err.count("\n") == 1 and wrong_dbg in err and
                "not the debug file" in err,
                "%s: (d) --debug-file of another build: exit 2 naming it (%d, %s)"
                % (name, rc, err.strip()[:300]))
        rc, out, err = gs(["info", "--json", "--force", "--debug-file", wrong_dbg, exe, core], env)
        t.check("not the debug file" not in err and "--force" in err and wrong_dbg in err and
                (rc != 0 or json.loads(out)["debug_file"]["found_by"] == "--debug-file"),
                "%s: (d) --force uses it anyway, with a warning (%d)" % (name, rc))
        rc, out, err = gs(["info", "--debug-file", os.path.join(tmp, "absent.debug"), exe, core],
                          env)
        t.check(rc == 2 and "absent.debug" in err, "%s: (d) a missing --debug-file: exit 2" % name)

        # (e) debuginfod
        if build_id:
            via_debuginfod(t, name, tmp, build_id, dbg, nolink, core, ref)
        return bool(build_id)
    except Exception as e:  # noqa: BLE001 - any failure is a test failure
        t.fail("%s: %s" % (name, e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--debuginfod-child":
        srv, tmp, build_id, exe, core, port = sys.argv[2:8]
        debuginfod_child(srv, tmp, build_id, exe, core, int(port))
        return
    t = S.Tally("debuginfo")
    for tool in ("objcopy", "readelf"):
        if not shutil.which(tool):
            t.fail("%s missing (binutils)" % tool)
    pairs = []
    if os.path.isdir(S.OUT):
        for pair in sorted(os.listdir(S.OUT)):
            d = os.path.join(S.OUT, pair, SCENARIO)
            if os.path.isfile(os.path.join(d, "exe")) and os.path.isfile(os.path.join(d, "core")):
                pairs.append((pair, d))
    t.check(len(pairs) > 0, "%s snapshots exist under %s" % (SCENARIO, S.OUT))
    with_id = 0
    for pair, d in pairs:
        with_id += bool(check_pair(t, pair, d))
    t.check(with_id > 0, "at least one executable with a GNU build id ((c) and (e) ran)")
    t.finish()


if __name__ == "__main__":
    main()
