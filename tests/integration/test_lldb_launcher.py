#!/usr/bin/env python3
"""lldb as the README shows it: `grpcscope-lldb --core CORE EXE` in a clean environment
(`env -i`, PATH starting with a directory whose python3 looks like another Python
installation and exits 1, as a pyenv one first in PATH would) loads grpcscope and answers
`why-blocked` with what the CLI prints; both from the repository (lldb/grpcscope-lldb) and
installed by scripts/install.sh into a fresh PREFIX. Plain lldb in the same environment is
run too, to show what the launcher fixes (reported, not counted: a later lldb may not need
it)."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import OUT, ROOT, Tally, run  # noqa: E402

LAUNCHER = os.path.join(ROOT, "lldb", "grpcscope-lldb")
PAIRS = ("go127-grpc181", "go124-grpc164", "go122-grpc164", "go119-grpc133")


def snapshot():
    for pair in PAIRS:
        d = os.path.join(OUT, pair, "handler-blocked")
        if all(os.path.isfile(os.path.join(d, f)) for f in ("exe", "core")):
            return pair, d
    return None, None


def fake_python(root):
    """A directory for the front of PATH whose python3 exits 1, laid out like an
    installation (bin/python3 next to lib/python3.X/os.py): the layout CPython's embedded
    interpreter takes its standard library from."""
    bindir = os.path.join(root, "fakepy", "bin")
    os.makedirs(bindir)
    with open(os.path.join(bindir, "python3"), "w") as f:
        f.write("#!/bin/sh\nexit 1\n")
    os.chmod(os.path.join(bindir, "python3"), 0o755)
    for minor in range(8, 16):
        lib = os.path.join(root, "fakepy", "lib", "python3.%d" % minor)
        os.makedirs(lib)
        with open(os.path.join(lib, "os.py"), "w") as f:
            f.write("raise ImportError('the fake python3 of test_lldb_launcher')\n")
    return bindir


def clean_env(bindir, home):
    return {"PATH": bindir + ":/usr/bin:/bin", "HOME": home}


def lldb_run(argv, env, timeout=300):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, env=env, timeout=timeout, cwd=env["HOME"])
    return p.returncode, p.stdout.decode(errors="replace")


def main():
    t = Tally("lldb-launcher")
    if not t.check(shutil.which("lldb") is not None, "lldb is installed (scripts/deps.sh)"):
        t.finish()
    pair, d = snapshot()
    if not t.check(d is not None, "a handler-blocked snapshot exists (pairs %s)" % ", ".join(PAIRS)):
        t.finish()
    exe, core = os.path.abspath(os.path.join(d, "exe")), os.path.abspath(os.path.join(d, "core"))
    rc, want, err = run(["why-blocked", exe, core])
    if not t.check(rc == 0 and want.strip(), "%s: the CLI answers why-blocked (exit %d: %s)"
                   % (pair, rc, err.strip()[:200])):
        t.finish()
    tmp = tempfile.mkdtemp(prefix="gs-lldb-launcher-")
    try:
        home = os.path.join(tmp, "home")
        os.mkdir(home)
        env = clean_env(fake_python(tmp), home)

        rc, out = lldb_run(["lldb", "-b", "-o", "script print(40 + 2)"], env)
        print("note: plain lldb in this environment: exit %d, %s" % (
            rc, "its Python works" if "\n42\n" in out else "its Python is broken: "
            + " | ".join(out.strip().splitlines()[:3])))

        prefix = os.path.join(tmp, "prefix")
        p = subprocess.run([os.path.join(ROOT, "scripts", "install.sh"), prefix,
                            os.path.join(ROOT, "build")], capture_output=True, text=True)
        t.check(p.returncode == 0 and os.access(os.path.join(prefix, "bin", "grpcscope-lldb"), os.X_OK),
                "install.sh puts grpcscope-lldb in PREFIX/bin (exit %d: %s)" % (p.returncode, p.stderr.strip()[:200]))

        for label, launcher in (("repository", LAUNCHER),
                                ("installed", os.path.join(prefix, "bin", "grpcscope-lldb"))):
            rc, out = lldb_run([launcher, "-b", "-o", "why-blocked", "--core", core, exe], env)
            t.check(rc == 0, "%s launcher: lldb exits 0 (exit %d: %s)"
                    % (label, rc, " | ".join(out.strip().splitlines()[-3:])))
            t.check("(lldb) why-blocked\n" in out and want in out,
                    "%s launcher, env -i with a broken python3 first in PATH: why-blocked prints "
                    "what the CLI prints (%d bytes)%s" % (label, len(want), "" if want in out else
                                                          ": got " + out[-600:]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t.finish()


if __name__ == "__main__":
    main()
