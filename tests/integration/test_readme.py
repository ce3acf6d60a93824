#!/usr/bin/env python3
"""The README's first example is what `make demo` prints: scripts/demo.sh on the committed
snapshot (fixtures/demo/handler-blocked.tar.xz), compared line for line with the block in
README.md that starts with the same `$ grpcscope why-blocked` line."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import ROOT, Tally  # noqa: E402


def readme_example():
    with open(os.path.join(ROOT, "README.md")) as f:
        lines = f.read().split("\n")
    start = lines.index("$ grpcscope why-blocked build/demo/exe build/demo/core")
    end = lines.index("```", start)
    return lines[start:end]


def main():
    t = Tally("readme")
    try:
        want = readme_example()
    except ValueError:
        t.fail("README.md has the demo's example block")
        t.finish()
    p = subprocess.run([os.path.join(ROOT, "scripts", "demo.sh")], capture_output=True, text=True)
    got = p.stdout.rstrip("\n").split("\n")
    t.check(p.returncode == 0, "scripts/demo.sh runs (exit %d: %s)" % (p.returncode, p.stderr.strip()[-300:]))
    diff = [(i + 1, w, g) for i, (w, g) in enumerate(zip(want, got)) if w != g]
    t.check(len(want) == len(got) and not diff,
            "README's example (%d lines) is what make demo prints (%d lines)%s"
            % (len(want), len(got), "; first difference at line %d: %r vs %r" % diff[0] if diff else ""))
    t.check(any(ln.startswith("[1] handler-blocked") for ln in got),
            "the demo's first group is a root cause (a blocked handler)")
    t.finish()


if __name__ == "__main__":
    main()
