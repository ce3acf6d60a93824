#!/usr/bin/env python3
"""`grpcscope report`: the HTML page rendered by a real headless browser (Debian's
chromium, --dump-dom), checked on the DOM it builds, not on the HTML string: the root
causes list the JSON groups in order, the wait-for graph is an inline SVG with one node per
goroutine with a verdict (per group above the page's limit), the streams table has every
stream, and the page's own script filters and sorts it (the fragment #filter=..&sort=..
applies both on load, as a click or typing would). Also: no network reference, -o and
stdout give the same page, a bad -o is exit 2 with nothing written, the fallback layout,
and the size per stream stays far under the 20 MB budget of a 60,000-goroutine core."""
import html.parser
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshots import GRPCSCOPE, Tally, run, run_json, snapshots  # noqa: E402

SCENARIOS = ("handler-blocked", "many-streams")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
GRAPH_MAX = 300  # GS_HTML_GRAPH_MAX_GOROUTINES


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children, self.text = tag, dict(attrs), parent, [], []

    def classes(self):
        return (self.attrs.get("class") or "").split()

    def all_text(self):
        return "".join(self.text + [c.all_text() for c in self.children])

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def find(self, pred):
        return [n for n in self.walk() if pred(n)]

    def by_id(self, i):
        r = self.find(lambda n: n.attrs.get("id") == i)
        return r[0] if r else None


class Dom(html.parser.HTMLParser):
    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.root = self.cur = Node("#root", {}, None)
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.text.append(data)


def browser():
    for b in ("chromium", "chromium-browser"):
        if shutil.which(b):
            return b
    return None


def dump(br, path, fragment=""):
    profile = os.path.join(os.path.dirname(path), "chromium-profile")
    # A browser that dies of a signal (seen once on a loaded 2-core machine) is run again;
    # a page that crashes it would do so every time.
    for _ in range(3):
        p = subprocess.run([br, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
                            "--disable-dev-shm-usage", "--user-data-dir=" + profile,
                            "--dump-dom", "file://" + path + fragment],
                           capture_output=True, text=True, timeout=120)
        if p.returncode >= 0:
            break
    if p.returncode != 0 or "<html" not in p.stdout:
        raise RuntimeError("chromium exit %d: %s" % (p.returncode, p.stderr.strip()[-300:]))
    return Dom(p.stdout).root


def rows(dom):
    t = dom.by_id("streams")
    body = [n for n in t.children if n.tag == "tbody"][0]
    return [r for r in body.children if r.tag == "tr"]


def visible(dom):
    return [r for r in rows(dom) if "hidden" not in r.attrs]


def cells(r):
    return [c.all_text() for c in r.children if c.tag == "td"]


def column(dom, key):
    heads = [n for n in dom.by_id("streams").walk() if n.tag == "th"]
    return [h.attrs.get("data-key") for h in heads].index(key)


def check_page(t, br, name, page, verdicts, groups, streams, info, findings=()):
    dom = dump(br, page)
    # facts
    facts = {r.children[0].all_text(): r.children[1].all_text()
             for r in dom.by_id("facts").walk() if r.tag == "tr" and len(r.children) == 2}
    t.check(facts.get("Go") == info["go_version"] and facts.get("taken", "").endswith(")"),
            "%s: the snapshot facts (Go %s, taken %s)" % (name, facts.get("Go"), facts.get("taken")))
    # root causes: the JSON groups, in order, with their counts
    shown = [n for n in dom.by_id("groups").children if "group" in n.classes()]
    t.check([(n.attrs.get("data-verdict"), int(n.attrs.get("data-count", -1))) for n in shown] ==
            [(g["verdict"], g["count"]) for g in groups],
            "%s: the root-cause section lists the %d groups in order" % (name, len(groups)))
    t.check(all(n.find(lambda x: "evidence" in x.classes() and x.children) for n in shown),
            "%s: every group shows its evidence" % name)
    # cycles of the wait-for graph: the JSON findings, each once, in order
    cyc = [f for f in findings if f["finding"] == "cycle"]
    sec = dom.by_id("cycle-list")
    divs = sec.find(lambda n: "cycle" in n.classes()) if sec else []
    heads = [d.children[0].all_text() for d in divs]
    folded = [li.all_text() for ul in (sec.find(lambda n: "cycle-ids" in n.classes()) if sec else [])
              for li in ul.children]
    loops = [" -> ".join(str(g) for g in f["goroutines"] + f["goroutines"][:1]) for f in cyc]
    want = ["cycle %d: goroutines %s wait on each other" % (i + 1, lp) for i, lp in enumerate(loops[:20])]
    t.check(heads == want and folded == loops[20:] and (sec is None) == (not cyc),
            "%s: the cycles section lists the %d cycles of the JSON findings (%d in full)"
            % (name, len(cyc), len(heads)))
    # the wait-for graph
    graph = dom.by_id("graph")
    svg = graph.find(lambda n: n.tag == "svg") if graph else []
    if len(verdicts) <= GRAPH_MAX:
        nodes = svg[0].find(lambda n: "node" in n.classes() and "goroutine" in n.classes()) if svg else []
        want = sorted("node-g%d" % v["goroutine"] for v in verdicts)
        t.check(len(svg) == 1 and sorted(n.attrs.get("id") for n in nodes) == want,
                "%s: the SVG graph has one node per goroutine with a verdict (%d of %d)"
                % (name, len(nodes), len(want)))
    else:
        nodes = svg[0].find(lambda n: "node" in n.classes() and "group" in n.classes()) if svg else []
        t.check(len(svg) == 1 and len(nodes) == len(groups),
                "%s: %d verdicts: the SVG graph has one node per group (%d of %d)"
                % (name, len(verdicts), len(nodes), len(groups)))
    # the streams table, unfiltered
    t.check(len(rows(dom)) == len(streams) and len(visible(dom)) == len(streams),
            "%s: the table has every stream (%d of %d)" % (name, len(rows(dom)), len(streams)))
    # a ggroup per stack group, expandable
    gg = dom.by_id("ggroups")
    dets = [n for n in gg.children if n.tag == "details"] if gg else []
    counts = [int(n.attrs["data-count"]) for n in dets]
    t.check(dets and sum(counts) == info["goroutines"] and counts == sorted(counts, reverse=True)
            and all(n.find(lambda x: x.tag == "pre" and x.all_text().strip()) for n in dets),
            "%s: goroutine groups with stacks add up to the %d goroutines, largest first"
            % (name, info["goroutines"]))
    # filtering: the page's script hides rows
    servers = sum(1 for s in streams if s["side"] == "server")
    dom = dump(br, page, "#filter=server")
    t.check(len(visible(dom)) == servers and dom.by_id("shown").all_text() == str(servers),
            "%s: filtering on 'server' leaves the %d server streams (%d shown)"
            % (name, servers, len(visible(dom))))
    dom = dump(br, page, "#filter=no-such-thing-here")
    t.check(len(visible(dom)) == 0, "%s: a filter matching nothing hides every row" % name)
    # sorting, both ways, with a filter at once
    dom = dump(br, page, "#sort=id&desc=1")
    c = column(dom, "id")
    ids = [int(cells(r)[c]) for r in visible(dom)]
    head = [n for n in dom.by_id("streams").walk() if n.tag == "th"][c]
    t.check(len(ids) == len(streams) and ids == sorted(ids, reverse=True) and
            head.attrs.get("aria-sort") == "descending",
            "%s: sorted by stream id, descending (%s...)" % (name, ids[:4]))
    dom = dump(br, page, "#filter=client&sort=id")
    ids = [int(cells(r)[c]) for r in visible(dom)]
    sides = {cells(r)[column(dom, "side")] for r in visible(dom)}
    t.check(ids == sorted(ids) and sides <= {"client"} and len(ids) == len(streams) - servers,
            "%s: filtered to clients and sorted ascending (%d rows)" % (name, len(ids)))


def main():
    t = Tally("report")
    br = browser()
    if not t.check(br is not None, "chromium is installed (scripts/deps.sh)"):
        t.finish()
    snaps = [(p, s, d) for p, s, d in snapshots() if s in SCENARIOS]
    t.check(len(snaps) >= 2, "fixture snapshots for %s exist" % ", ".join(SCENARIOS))
    tmp = tempfile.mkdtemp(prefix="gs-report-")
    sizes = []
    for pair, scen, d in snaps:
        name = "%s/%s" % (pair, scen)
        exe, core = os.path.join(d, "exe"), os.path.join(d, "core")
        page = os.path.join(tmp, "%s-%s.html" % (pair, scen))
        rc, out, err = run(["report", "-o", page, exe, core])
        if not t.check(rc == 0 and out == "" and os.path.exists(page),
                       "%s: report -o writes the page (exit %d, %s)" % (name, rc, err.strip())):
            continue
        with open(page, encoding="utf-8") as f:
            text = f.read()
        rc, out, err = run(["report", exe, core])
        t.check(rc == 0 and out == text, "%s: without -o the same page goes to stdout" % name)
        low = text.lower()
        t.check("<script src" not in low and "<link" not in low and "url(http" not in low and
                'href="http' not in low and "@import" not in low,
                "%s: self-contained: no script, style or link fetched from anywhere" % name)
        try:
            wb = run_json(["why-blocked", exe, core])
            st = run_json(["streams", exe, core])
            info = run_json(["info", exe, core])
            streams = [s for tr in st["transports"] for s in tr["streams"]]
            check_page(t, br, name, page, wb["verdicts"], wb["groups"], streams, info,
                       wb.get("findings", []))
        except Exception as e:  # noqa: BLE001 - any failure is a test failure
            t.fail("%s: %s" % (name, e))
        if scen == "many-streams":
            sizes.append((name, len(text), len(streams), info["goroutines"]))
        if scen == "handler-blocked" and pair == snaps[0][0]:
            own = os.path.join(tmp, "own.html")
            p = subprocess.run([GRPCSCOPE, "report", "-o", own, exe, core], capture_output=True,
                               text=True, env=dict(os.environ, GRPCSCOPE_OWN_LAYOUT="1"))
            try:
                dom = dump(br, own)
                nodes = dom.find(lambda n: "goroutine" in n.classes() and "node" in n.classes())
                t.check(p.returncode == 0 and len(nodes) == len(wb["verdicts"]) and
                        "own layered layout" in dom.by_id("wait-for").parent.all_text(),
                        "%s: without Graphviz the page's own layout draws the %d goroutines"
                        % (name, len(nodes)))
            except Exception as e:  # noqa: BLE001
                t.fail("%s: own layout: %s" % (name, e))
            out_html = os.path.join(tmp, "not-written.html")
            rc, out, err = run(["report", "-o", out_html, exe, exe])
            t.check(rc == 2 and out == "" and len(err.strip().splitlines()) == 1 and exe in err and
                    not os.path.exists(out_html),
                    "%s: a core that is no core: exit 2, one line naming it, no page written (%d, %s)"
                    % (name, rc, err.strip()[:200]))
            bad = os.path.join(tmp, "no-such-dir", "r.html")
            rc, out, err = run(["report", "-o", bad, exe, core])
            t.check(rc == 2 and bad in err and len(err.strip().splitlines()) == 1 and
                    not os.path.exists(os.path.dirname(bad)),
                    "%s: an unwritable -o is exit 2 with one line naming it (%d, %s)"
                    % (name, rc, err.strip()))
    # --peer: the other process's root causes follow, as why-blocked --peer groups them.
    split = [(p, s, d) for p, s, d in snapshots() if s == "split-peer-silent"]
    if t.check(len(split) > 0, "a split-peer-silent snapshot exists (for --peer)"):
        pair, scen, d = split[-1]
        exe, core, pcore = (os.path.join(d, f) for f in ("exe", "core", "peer-core"))
        page = os.path.join(tmp, "peer.html")
        rc, out, err = run(["report", "-o", page, "--peer", exe, pcore, exe, core])
        try:
            wb = run_json(["why-blocked", "--peer", exe, pcore, exe, core])
            dom = dump(br, page)
            mine = [n.attrs.get("data-verdict") for n in dom.by_id("groups").children if "group" in n.classes()]
            theirs = [n.attrs.get("data-verdict") for n in dom.by_id("peer-groups").children
                      if "group" in n.classes()]
            t.check(rc == 0 and mine == [g["verdict"] for g in wb["groups"]] and
                    theirs == [g["verdict"] for g in wb["peer_groups"]] and theirs,
                    "%s/%s: report --peer lists both processes' root causes (%s; peer %s)"
                    % (pair, scen, mine, theirs))
        except Exception as e:  # noqa: BLE001
            t.fail("%s/%s: report --peer: %s (%s)" % (pair, scen, e, err.strip()))
    # Size: what a stream and its goroutines cost on many-streams, scaled to the large
    # benchmark snapshot (50,000 streams, 75,000 goroutines): under 20 MB.
    for name, size, nstreams, ngor in sizes:
        est = size / nstreams * 50000 if nstreams else float("inf")
        t.check(size < 1_000_000 and est < 20e6,
                "%s: %d bytes for %d streams and %d goroutines: ~%.1f MB at 50,000 streams"
                % (name, size, nstreams, ngor, est / 1e6))
    shutil.rmtree(tmp, ignore_errors=True)
    t.finish()


if __name__ == "__main__":
    main()
