"""The web page in real headless Chromium, driven through the DevTools protocol (Tests/web/cdp.py),
against the built `strata serve` on a store with real data (Tests/web/webstore.py).

Screenshots go to $STRATA_TEST_OUTPUT (default: a fresh temporary directory, printed); they are CI
output, not committed. Skipped, saying why, without Chromium or without a built `strata`.
"""
import json
import math
import os
import tempfile
import time

import pytest

import cdp
import webstore

CHROMIUM = cdp.find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/setup.sh installs it; apt-get install -y chromium)")

OUT = os.environ.get("STRATA_TEST_OUTPUT") or tempfile.mkdtemp(prefix="strata-web-screens-")


def shot(page, name):
    os.makedirs(OUT, exist_ok=True)
    path = page.screenshot(os.path.join(OUT, name + ".png"))
    print("screenshot:", path)
    return path


@pytest.fixture(scope="module")
def server():
    try:
        webstore.binary()
    except FileNotFoundError as e:
        pytest.skip(str(e))
    s = webstore.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    b = cdp.Browser(1400, 900)
    yield b
    b.close()


@pytest.fixture(scope="module")
def page(server, browser):
    p = browser.new_page()
    p.goto(page_url(server) + "/")
    p.eval("performance.setResourceTimingBufferSize(100000)")   # tests read the page's requests
    yield p


def page_url(server):
    web = os.environ.get("STRATA_WEB_ASSETS")
    if web:
        if not hasattr(server, "proxy"):
            server.proxy = webstore.asset_proxy(server, web)
        return server.proxy
    return server.url


def ids_by_name(server):
    return {r["name"]: r["id"] for r in server.get("/api/runs?limit=1000")["runs"]}


def api_num(v):
    if v == "NaN":
        return math.nan
    if v == "Infinity":
        return math.inf
    if v == "-Infinity":
        return -math.inf
    return float(v)


def same(a, b):
    a, b = api_num(a), api_num(b)
    return (math.isnan(a) and math.isnan(b)) or a == b


def table_ids(page):
    return page.eval("[...document.querySelectorAll('#runs tbody tr.run')].map(r => r.dataset.id)")


def checked_ids(page):
    return page.eval("[...document.querySelectorAll('#runs tbody tr.run')].filter(r => r.querySelector('input.sel').checked).map(r => r.dataset.id)")


def set_filter(page, text):
    box = page.eval("(() => { const e = document.querySelector('#where'); e.focus(); e.select(); const b = e.getBoundingClientRect(); return [b.left + 20, b.top + b.height / 2]; })()")
    page.click(*box)
    page.eval("document.querySelector('#where').select()")
    page.key("Backspace", "Backspace", 8)
    if text:
        page.type(text)
    page.key("Enter", "Enter", 13)


def center(page, selector):
    r = page.eval("(() => { const e = document.querySelector(%s); e.scrollIntoView({block: 'center'}); const b = e.getBoundingClientRect(); return [b.left + b.width / 2, b.top + b.height / 2]; })()" % json.dumps(selector))
    return r


def click_row_checkbox(page, run_id):
    x, y = center(page, "#runs tr.run[data-id=%s] input.sel" % json.dumps(run_id))
    page.click(x, y)


def panel_sel(metric):
    return ".panel[data-metric=%s]" % json.dumps(metric)


def wait_panel(page, metric, drawn):
    page.eval("document.querySelector(%s).scrollIntoView({block: 'center'})" % json.dumps(panel_sel(metric)))
    return page.wait("(() => { const p = document.querySelector(%s); const s = p && p.querySelector('svg.chart');"
                     " return s && !p.dataset.loading && s.dataset.drawn === %s && Number(s.dataset.buckets) > 0; })()"
                     % (json.dumps(panel_sel(metric)), json.dumps(str(drawn))),
                     what="panel %s drawn with %d series" % (metric, drawn))


def test_page_loads_its_assets_and_lists_every_run(server, page):
    total = server.get("/api/runs?limit=1000")["total"]
    page.wait("document.querySelectorAll('#runs tbody tr.run').length === %d" % total, what="%d table rows" % total)
    assert page.eval("[...document.scripts].every(s => s.src.startsWith(location.origin + '/assets/'))")
    assert page.eval("getComputedStyle(document.querySelector('header')).display") == "flex", "style.css applied"
    # numbers as people write them: the lr param 3e-4, not 3.000e-4 or 0.0003
    texts = page.eval("[...document.querySelectorAll('#runs tbody td')].map(t => t.textContent)")
    assert "3e-4" in texts and "3.000e-4" not in texts
    shot(page, "01-workspace")
    assert page.browser.exceptions == [], page.browser.exceptions


def test_filter_and_selection_survive_an_empty_filter(server, page):
    ids = ids_by_name(server)
    # select exactly two sweep runs and the diverged one
    for rid in checked_ids(page):
        click_row_checkbox(page, rid)
    page.wait("document.querySelectorAll('#runs input.sel:checked').length === 0", what="nothing selected")
    wanted = [ids["lr0.001-s0"], ids["lr0.003-s1"], ids["diverged"]]
    for rid in wanted:
        click_row_checkbox(page, rid)
    page.wait("document.querySelectorAll('#runs input.sel:checked').length === 3", what="three selected")
    assert sorted(checked_ids(page)) == sorted(wanted)

    where = "params.lr < 2e-3"
    expect = [r["id"] for r in server.get("/api/runs?limit=1000&where=" + webstore.urllib.parse.quote(where))["runs"]]
    set_filter(page, where)
    page.wait("JSON.stringify([...document.querySelectorAll('#runs tbody tr.run')].map(r => r.dataset.id)) === %s" % json.dumps(json.dumps(expect, separators=(",", ":"))),
              what="table shows the filter's runs")
    assert sorted(checked_ids(page)) == sorted(set(wanted) & set(expect))
    set_filter(page, "params.lr > 100")
    page.wait("document.querySelectorAll('#runs tbody tr.run').length === 0", what="a filter matching nothing")
    set_filter(page, "")
    page.wait("document.querySelectorAll('#runs tbody tr.run').length === %d" % len(ids), what="every run back")
    assert sorted(checked_ids(page)) == sorted(wanted), "the selection survived the filters"
    shot(page, "02-selected")


def test_every_panel_is_drawn(server, page):
    runs = {r["id"]: r for r in server.get("/api/runs?limit=1000")["runs"]}
    selected = checked_ids(page)
    metrics = sorted({m for rid in selected for m in runs[rid]["metrics"]})
    shown = page.eval("[...document.querySelectorAll('.panel')].map(p => p.dataset.metric)")
    assert sorted(shown) == metrics
    sections = page.eval("[...document.querySelectorAll('details.section')].map(d => d.dataset.section)")
    assert sections == ["train", "val", "sys"], sections
    for m in metrics:
        n = sum(1 for rid in selected if m in runs[rid]["metrics"])
        wait_panel(page, m, n)
        w = page.eval("(() => { const s = document.querySelector(%s + ' svg.chart'); return [Number(s.dataset.pw), Number(s.closest('.panel').dataset.buckets)]; })()" % json.dumps(panel_sel(m)))
        assert w[1] == w[0], "the curve is asked at the panel's pixel width (%s)" % w
    # one request per panel for all its runs (/api/curves)
    asked = page.eval("performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/api/curves?'))")
    per_metric = {}
    for n in asked:
        q = dict(webstore.urllib.parse.parse_qsl(webstore.urllib.parse.urlsplit(n).query))
        per_metric.setdefault(q["metric"], set()).add(q["runs"])
    for m in metrics:
        assert any(set(r.split(",")) == {rid for rid in selected if m in runs[rid]["metrics"]} for r in per_metric.get(m, ())), (m, per_metric.get(m))
    # the panel search keeps only matching panels; clearing it brings them back
    page.eval("(() => { const s = document.querySelector('#search'); s.value = 'val/'; s.dispatchEvent(new Event('input')); })()")
    page.wait("[...document.querySelectorAll('.panel')].every(p => p.dataset.metric.startsWith('val/'))", what="search filters panels")
    page.eval("(() => { const s = document.querySelector('#search'); s.value = ''; s.dispatchEvent(new Event('input')); })()")
    page.wait("document.querySelectorAll('.panel').length === %d" % len(metrics), what="all panels back")


def hover_rows(page, metric, frac):
    sel = panel_sel(metric)
    page.eval("window.scrollTo(0, 0); document.querySelector(%s).scrollIntoView({block: 'center'})" % json.dumps(sel))
    page.wait("(() => { const p = document.querySelector(%s); return !p.dataset.loading && p.querySelector('svg.chart').dataset.pw; })()" % json.dumps(sel), what="panel drawn")
    geo = page.eval("(() => { const s = document.querySelector(%s + ' svg.chart'); const b = s.getBoundingClientRect();"
                    " return {left: b.left, top: b.top, l: Number(s.dataset.left), pw: Number(s.dataset.pw), t: Number(s.dataset.top), ph: Number(s.dataset.ph),"
                    " x0: Number(s.dataset.x0), x1: Number(s.dataset.x1)}; })()" % json.dumps(sel))
    px = geo["l"] + round(geo["pw"] * frac) + 0.5
    page.mouse("mouseMoved", geo["left"] + px, geo["top"] + geo["t"] + geo["ph"] / 2)
    page.wait("!document.querySelector(%s + ' .tip').hidden" % json.dumps(sel), what="hover tooltip")
    rows = page.eval("[...document.querySelectorAll(%s + ' .tip tr.tiprow')].map(r => Object.assign({}, r.dataset, {cells: [...r.cells].map(c => c.textContent)}))" % json.dumps(sel))
    x = geo["x0"] + (px - geo["l"]) / geo["pw"] * (geo["x1"] - geo["x0"])
    q = page.eval("(() => { const p = document.querySelector(%s); return {buckets: Number(p.dataset.buckets), from: p.dataset.from, to: p.dataset.to}; })()" % json.dumps(sel))
    # One pixel in x units: the page maps the mouse to x from the event's own coordinates, so at a
    # bucket edge the bucket it picks may be the neighbour of the one computed here.
    q["pixel"] = (geo["x1"] - geo["x0"]) / geo["pw"]
    return rows, x, q


def test_hover_values_are_the_apis_bucket(server, page):
    checked = 0
    for frac in (0.13, 0.5, 0.87):
        rows, x, q = hover_rows(page, "train/loss", frac)
        assert len(rows) == 3
        for row in rows:
            c = server.curve(row["run"], "train/loss", buckets=q["buckets"], frm=q["from"], to=q["to"])
            if "bucket" not in row:
                # no bucket under the cursor: the API has none within a pixel of it
                assert not [b for b in c["rows"] if b["x0"] <= x - q["pixel"] and x + q["pixel"] < b["x1"]]
                continue
            mine = [b for b in c["rows"] if b["bucket"] == int(row["bucket"])]
            assert mine, row
            b = mine[0]
            # the bucket shown is the one under the cursor (to within one pixel)
            assert b["x0"] - q["pixel"] <= x < b["x1"] + q["pixel"], (x, b["x0"], b["x1"])
            assert int(row["x0"]) == b["x0"]
            for k in ("mean", "min", "max"):
                assert same(row[k], b[k]), (k, row, b)
            assert int(row["count"]) == b["count"] and int(row["nan"]) == b["nan"]
            checked += 1
    assert checked >= 6
    shot(page, "03-hover")
    page.mouse("mouseMoved", 5, 5)


def test_nan_and_inf_markers_for_the_diverged_run(server, page):
    ids = ids_by_name(server)
    d = ids["diverged"]
    sel = panel_sel("train/loss")
    wait_panel(page, "train/loss", 3)
    q = page.eval("(() => { const p = document.querySelector(%s); return {buckets: Number(p.dataset.buckets), from: p.dataset.from, to: p.dataset.to}; })()" % json.dumps(sel))
    c = server.curve(d, "train/loss", buckets=q["buckets"], frm=q["from"], to=q["to"])
    nan_buckets = {(b["x0"], b["nan"]) for b in c["rows"] if b["nan"] > 0}
    # the API counts each kind of value per bucket: they add up, and ±Inf are there exactly where
    # the bucket's max (min) is ±Infinity
    for b in c["rows"]:
        assert b["finite"] + b["nan"] + b["pinf"] + b["ninf"] == b["count"], b
        assert (b["pinf"] > 0) == (b["max"] == "Infinity") and (b["ninf"] > 0) == (b["min"] == "-Infinity"), b
    pinf = {(b["x0"], b["pinf"]) for b in c["rows"] if b["pinf"] > 0}
    ninf = {(b["x0"], b["ninf"]) for b in c["rows"] if b["ninf"] > 0}
    assert nan_buckets and pinf and ninf, "the fixture diverges"
    # +Inf at steps 1210 and 1211, −Inf at 1212 and 1213 (webstore.populate)
    assert sum(n for _, n in pinf) == 2 and sum(n for _, n in ninf) == 2
    # where ±Inf hides a bucket's finite extremes, the API gives them and the page draws them
    drawn = {r["x0"]: r for r in page.eval("Workspace.panels.get('train/loss').series.find(s => s.id === %s).rows.map(r => ({x0: r.x0, min: r.min, max: r.max}))" % json.dumps(d))}
    for b in c["rows"]:
        if b["pinf"] + b["ninf"]:
            assert "finite_max" in b and math.isfinite(api_num(b["finite_max"])), b
            assert drawn[b["x0"]]["max"] == api_num(b["finite_max"]) and drawn[b["x0"]]["min"] == api_num(b["finite_min"]), (b, drawn[b["x0"]])
        else:
            assert "finite_max" not in b
    marks = page.eval("[...document.querySelectorAll(%s + ' .marker')].filter(m => m.dataset.run === %s).map(m => ({cls: m.getAttribute('class'), x0: Number(m.dataset.x0), count: m.dataset.count}))" % (json.dumps(sel), json.dumps(d)))
    assert {(m["x0"], int(m["count"])) for m in marks if "nan" in m["cls"]} == nan_buckets
    assert {(m["x0"], int(m["count"])) for m in marks if "pinf" in m["cls"]} == pinf
    assert {(m["x0"], int(m["count"])) for m in marks if "ninf" in m["cls"]} == ninf
    # hovering the +Inf bucket lists its +Inf (and −Inf) counts as the API gives them
    s = page.eval("(() => { const s = document.querySelector(%s + ' svg.chart'); return {x0: Number(s.dataset.x0), x1: Number(s.dataset.x1)}; })()" % json.dumps(sel))
    target = [b for b in c["rows"] if b["pinf"] > 0][0]
    rows, x, _ = hover_rows(page, "train/loss", ((target["x0"] + target["x1"]) / 2 - s["x0"]) / (s["x1"] - s["x0"]))
    mine = [r for r in rows if r["run"] == d and "bucket" in r]
    assert mine
    b = [b for b in c["rows"] if b["bucket"] == int(mine[0]["bucket"])][0]
    assert (int(mine[0]["pinf"]), int(mine[0]["ninf"]), int(mine[0]["finite"])) == (b["pinf"], b["ninf"], b["finite"])
    text = " ".join(mine[0]["cells"])
    assert b["pinf"] > 0 and ("%d +Inf" % b["pinf"]) in text and ((b["ninf"] == 0) or ("%d −Inf" % b["ninf"]) in text), text
    page.mouse("mouseMoved", 5, 5)
    # the divergence to 289,614 stays in the y range (not clipped away)
    y1 = page.eval("Number(document.querySelector(%s + ' svg.chart').dataset.y1)" % json.dumps(sel))
    top = max(api_num(b["max"]) for b in c["rows"] if math.isfinite(api_num(b["max"])) and api_num(b["max"]) < 1e200)
    assert top > 289000 and y1 >= 289000
    # hovering a NaN bucket says how many NaN it holds
    xs = sorted(nan_buckets)
    s = page.eval("(() => { const s = document.querySelector(%s + ' svg.chart'); return {x0: Number(s.dataset.x0), x1: Number(s.dataset.x1)}; })()" % json.dumps(sel))
    target = [b for b in c["rows"] if b["x0"] == xs[len(xs) // 2][0]][0]
    frac = ((target["x0"] + target["x1"]) / 2 - s["x0"]) / (s["x1"] - s["x0"])   # the bucket's middle
    rows, x, _ = hover_rows(page, "train/loss", frac)
    mine = [r for r in rows if r["run"] == d and "bucket" in r]
    assert mine
    b = [b for b in c["rows"] if b["bucket"] == int(mine[0]["bucket"])][0]
    assert mine and int(mine[0]["nan"]) == b["nan"] > 0 and ("%d NaN" % b["nan"]) in " ".join(mine[0]["cells"])
    shot(page, "04-diverged")
    page.mouse("mouseMoved", 5, 5)


def view_snapshot(page):
    return page.eval("""(() => ({
      where: document.querySelector('#where').value,
      rows: [...document.querySelectorAll('#runs tbody tr.run')].map(r => r.dataset.id),
      checked: [...document.querySelectorAll('#runs input.sel:checked')].map(e => e.closest('tr').dataset.id).sort(),
      base: (document.querySelector('#runs input.base:checked') || {closest: () => ({dataset: {}})}).closest('tr').dataset.id || null,
      smooth: document.querySelector('#smooth').value,
      x: document.querySelector('#xaxis').value,
      panels: [...document.querySelectorAll('.panel')].map(p => ({m: p.dataset.metric, log: p.querySelector('input.logy').checked,
        shown: p.closest('details').open, from: p.closest('details').open ? p.dataset.from || null : null,
        to: p.closest('details').open ? p.dataset.to || null : null})),
      closed: [...document.querySelectorAll('details.section')].filter(d => !d.open).map(d => d.dataset.section),
      state: URLState.encode(),
      colors: S.selected.map(colorOf),
      lines: [...document.querySelectorAll('#workspace path.line.raw')].filter(p => p.closest('details').open).map(p => [p.closest('.panel').dataset.metric, p.dataset.run, p.getAttribute('stroke')]),
    }))()""")


def test_url_restores_the_view(server, browser, page):
    ids = ids_by_name(server)
    sel = panel_sel("train/loss")
    # baseline, log y on val/loss, smoothing, a zoom on train/loss by dragging, the sys section closed
    x, y = center(page, "#runs tr.run[data-id=%s] input.base" % json.dumps(ids["lr0.001-s0"]))
    page.click(x, y)
    page.eval("(() => { const c = document.querySelector(%s + ' input.logy'); c.click(); })()" % json.dumps(panel_sel("val/loss")))
    page.eval("(() => { const s = document.querySelector('#smooth'); s.value = '0.6'; s.dispatchEvent(new Event('input')); })()")
    page.eval("document.querySelector('details.section[data-section=sys] summary').click()")
    wait_panel(page, "train/loss", 3)
    geo = page.eval("(() => { const s = document.querySelector(%s + ' svg.chart'); s.scrollIntoView({block: 'center'}); const b = s.getBoundingClientRect();"
                    " return {left: b.left, top: b.top, l: Number(s.dataset.left), pw: Number(s.dataset.pw), t: Number(s.dataset.top), ph: Number(s.dataset.ph)}; })()" % json.dumps(sel))
    before = page.eval("document.querySelector(%s).dataset.to" % json.dumps(sel))
    page.drag(geo["left"] + geo["l"] + geo["pw"] * 0.55, geo["top"] + geo["t"] + 10, geo["left"] + geo["l"] + geo["pw"] * 0.75, geo["top"] + geo["t"] + 12)
    page.wait("document.querySelector(%s).dataset.to !== %s && !document.querySelector(%s).dataset.loading" % (json.dumps(sel), json.dumps(before), json.dumps(sel)), what="zoomed")
    wait_panel(page, "train/loss", 3)
    page.eval("URLState.saveNow()")
    snap = view_snapshot(page)
    assert snap["base"] == ids["lr0.001-s0"] and snap["smooth"] == "0.6" and snap["closed"] == ["sys"]
    z = [p for p in snap["panels"] if p["m"] == "train/loss"][0]
    assert z["from"] is not None and int(z["to"]) - int(z["from"]) < 600, z
    assert [p for p in snap["panels"] if p["m"] == "val/loss"][0]["log"]
    url = page.eval("location.href")
    shot(page, "05-before-restore")
    other = browser.new_page()
    try:
        other.goto(url)
        wait_panel(other, "train/loss", 3)
        other.wait("document.querySelectorAll('#runs tbody tr.run').length === %d" % len(snap["rows"]), what="table restored")
        # panels are fetched when on screen: bring each one drawn in the first page into view
        for m in sorted({l[0] for l in snap["lines"]}, reverse=True):
            wait_panel(other, m, sum(1 for l in snap["lines"] if l[0] == m))
        other.eval("window.scrollTo(0, 0); document.querySelector(%s).scrollIntoView({block: 'center'})" % json.dumps(sel))
        again = view_snapshot(other)
        assert again == snap
        shot(other, "06-restored")
    finally:
        other.close()
        page.front()
    # back to the unzoomed view for the next test
    page.eval("document.querySelector(%s + ' button.reset').click()" % json.dumps(sel))
    wait_panel(page, "train/loss", 3)


def curve_requests(page, metric):
    """The curves the page asked for `metric` since the resource timings were cleared, one dict per
    run (from /api/curve and from the runs of /api/curves)."""
    names = page.eval("performance.getEntriesByType('resource').map(e => e.name).filter(n => /[/]api[/]curves?[?]/.test(n))")
    out = []
    for n in names:
        q = dict(webstore.urllib.parse.parse_qsl(webstore.urllib.parse.urlsplit(n).query))
        if q.get("metric") != metric:
            continue
        for run in q.pop("runs").split(",") if "runs" in q else [q["run"]]:
            out.append(dict(q, run=run))
    return out


def drawn_rows(page, metric, run):
    return page.eval("Workspace.panels.get(%s).series.find(s => s.id === %s).rows.map(r => r.raw)" % (json.dumps(metric), json.dumps(run)))


def grid_curve(server, page, metric, run):
    """The API's whole curve of `run` on the grid (from, to, buckets) the panel shows."""
    q = page.eval("(() => { const p = document.querySelector(%s); return {buckets: Number(p.dataset.buckets), from: p.dataset.from, to: p.dataset.to}; })()" % json.dumps(panel_sel(metric)))
    return server.curve(run, metric, buckets=q["buckets"], frm=q["from"], to=q["to"])["rows"]


def test_a_point_logged_while_the_page_is_open_appears(server, page):
    ids = ids_by_name(server)
    live = ids["live"]
    page.eval("window.__strataPageMark = 'no reload'")
    if live not in checked_ids(page):
        click_row_checkbox(page, live)
    wait_panel(page, "train/loss", 4)
    sel = panel_sel("train/loss")
    last = lambda: page.eval("(() => { const p = document.querySelector(%s + ' path.line.raw[data-run=%s]'); return p ? Number(p.dataset.lastStep) : null; })()" % (json.dumps(sel), json.dumps(live)))
    assert last() == 499
    others = [rid for rid in checked_ids(page) if rid != live]
    page.eval("performance.setResourceTimingBufferSize(100000); performance.clearResourceTimings()")
    # while nothing changes, the page's polls send the list's cursor and get no list back
    full = len(json.dumps(server.get("/api/runs?limit=100000")))
    polls = "performance.getEntriesByType('resource').filter(e => e.name.includes('/api/runs?') && e.name.includes('cursor='))"
    page.wait("%s.length >= 2" % polls, what="two polls with the cursor")
    sizes = page.eval("%s.map(e => e.encodedBodySize)" % polls)
    assert sizes and all(0 < n < 200 < full for n in sizes), (sizes, full)
    page.eval("performance.clearResourceTimings()")
    server.ingest([{"run": "live", "step": 1500, "metrics": {"train/loss": 0.125}}])
    page.wait("(() => { const p = document.querySelector(%s + ' path.line.raw[data-run=%s]'); return p && Number(p.dataset.lastStep) === 1500; })()" % (json.dumps(sel), json.dumps(live)),
              timeout=30, what="the new point drawn without a reload")
    assert page.eval("window.__strataPageMark") == "no reload"
    # only what is new was fetched: the live run's last buckets (`since`), nothing for the runs
    # that did not change; and the rows drawn are the API's whole curve on the panel's grid
    asked = curve_requests(page, "train/loss")
    assert asked and all(q["run"] == live and "since" in q for q in asked), asked
    assert not [q for q in asked if q["run"] in others]
    assert drawn_rows(page, "train/loss", live) == grid_curve(server, page, "train/loss", live)
    # a point past the panel's grid (val/loss: steps 0 to 1900, with room to 2375): the panel is
    # fetched again on a new grid, still the API's curve
    vsel = panel_sel("val/loss")
    wait_panel(page, "val/loss", 4)
    page.eval("performance.clearResourceTimings()")
    server.ingest([{"run": "live", "step": 2600, "metrics": {"val/loss": 0.0625}}])
    page.wait("(() => { const p = document.querySelector(%s + ' path.line.raw[data-run=%s]'); return p && Number(p.dataset.lastStep) === 2600; })()" % (json.dumps(vsel), json.dumps(live)),
              timeout=30, what="the point past the grid drawn")
    asked = curve_requests(page, "val/loss")
    assert [q for q in asked if q["run"] == live and "since" not in q], asked
    assert drawn_rows(page, "val/loss", live) == grid_curve(server, page, "val/loss", live)
    page.eval("document.querySelector(%s).scrollIntoView({block: 'center'})" % json.dumps(sel))
    # the table followed too: the live run's train/loss count is the API's
    s = server.get("/api/runs?limit=1000")
    count = [r for r in s["runs"] if r["id"] == live][0]["metrics"]["train/loss"]["count"]
    assert count == 501
    page.wait("[...document.querySelectorAll('.panel[data-metric=\"train/loss\"] table.summary tr')].some(r => r.dataset.run === %s && r.cells[4] && r.cells[4].textContent === '501')" % json.dumps(live),
              what="the summary row follows")
    shot(page, "07-live")
    assert page.browser.exceptions == [], page.browser.exceptions


def test_run_page(server, page):
    ids = ids_by_name(server)
    d = ids["diverged"]
    x, y = center(page, "#runs tr.run[data-id=%s] a.runlink" % json.dumps(d))
    page.click(x, y)
    page.wait("!document.querySelector('#runview').hidden && document.querySelector('#runview h2') && document.querySelector('#runview h2').textContent === 'diverged'", what="run page")
    assert page.eval("new URLSearchParams(location.search).get('run')") == d
    series = server.get("/api/runs/%s/series" % d)["series"]
    rows = page.eval("[...document.querySelectorAll('#runview table.series tbody tr')].map(r => [...r.cells].map(c => c.textContent))")
    assert sorted(r[0] for r in rows) == sorted(s["key"] for s in series)
    for r in rows:
        s = [s for s in series if s["key"] == r[0]][0]
        assert int(r[1]) == s["count"] and int(r[2]) == s["nan"]
    page.wait("[...document.querySelectorAll('#runview svg.chart')].length === %d && [...document.querySelectorAll('#runview svg.chart')].every(s => s.dataset.drawn === '1')" % len(series), what="run page panels")
    shot(page, "08-run-page")
    page.eval("history.back()")
    page.wait("document.querySelector('#runview').hidden && !document.querySelector('#runview .panel')", what="back to the workspace")


def set_control(page, selector, value=None, checked=None, event="change"):
    page.eval("(() => { const e = document.querySelector(%s); %s e.dispatchEvent(new Event(%s)); })()" % (
        json.dumps(selector),
        ("e.value = %s;" % json.dumps(value)) if value is not None else ("e.checked = %s;" % ("true" if checked else "false")),
        json.dumps(event)))


def tick_labels(page, metric):
    return page.eval("[...document.querySelectorAll(%s + ' .axis text:not(.axtitle)')].map(t => ({t: t.textContent, x: Number(t.getAttribute('x')), anchor: t.getAttribute('text-anchor')}))" % json.dumps(panel_sel(metric)))


def test_sorting_and_column_chooser(server, page):
    page.eval("window.scrollTo(0, 0)")
    x, y = center(page, "#runs th[data-sort='params.lr']")
    page.click(x, y)
    expect = [r["id"] for r in server.get("/api/runs?limit=1000&sort=params.lr")["runs"]]
    page.wait("JSON.stringify([...document.querySelectorAll('#runs tbody tr.run')].map(r => r.dataset.id)) === %s" % json.dumps(json.dumps(expect, separators=(",", ":"))),
              what="rows in the API's params.lr order")
    page.click(*center(page, "#runs th[data-sort='params.lr']"))
    expect = [r["id"] for r in server.get("/api/runs?limit=1000&sort=-params.lr")["runs"]]
    page.wait("JSON.stringify([...document.querySelectorAll('#runs tbody tr.run')].map(r => r.dataset.id)) === %s" % json.dumps(json.dumps(expect, separators=(",", ":"))),
              what="rows in the API's -params.lr order")
    # the column chooser adds a summary column; both live in the URL
    page.eval("document.querySelector('#colchooser').open = true; Table.render()")
    page.click(*center(page, "#colchooser input[data-key='val/acc.max']"))
    page.wait("[...document.querySelectorAll('#runs th')].some(t => t.textContent.startsWith('val/acc max'))", what="val/acc max column")
    page.eval("document.querySelector('#colchooser').open = false; URLState.saveNow()")
    q = page.eval("Object.fromEntries(new URLSearchParams(location.search))")
    assert q["sort"] == "-params.lr" and "val/acc.max" in q["cols"].split(",")
    runs = server.get("/api/runs?limit=1000&sort=-params.lr")["runs"]
    col = page.eval("[...document.querySelectorAll('#runs th')].findIndex(t => t.textContent.startsWith('val/acc max'))")
    cells = page.eval("[...document.querySelectorAll('#runs tbody tr.run')].map(r => r.cells[%d].textContent)" % col)
    for r, text in zip(runs, cells):
        v = r["metrics"].get("val/acc", {}).get("max")
        assert (text == "") if v is None else math.isclose(float(text), api_num(v), rel_tol=1e-3), (text, v)
    shot(page, "09-columns")


def table_snapshot(page):
    return page.eval("""(() => ({
      heads: [...document.querySelectorAll('#runs thead th')].map(t => t.textContent),
      rows: [...document.querySelectorAll('#runs tbody tr.run')].map(r => [...r.cells].slice(2).map(c => c.textContent)),
      checked: [...document.querySelectorAll('#runs input.sel:checked')].map(e => e.closest('tr').dataset.id).sort(),
      selected: S.selected.slice().sort(),
      count: document.querySelector('#count').textContent,
      where: document.querySelector('#where').value,
    }))()""")


def test_table_filter_sort_columns_and_hidden_selection_survive_a_reload(server, browser, page):
    ids = ids_by_name(server)
    before = checked_ids(page)
    # select a run the filter will hide, filter, sort by a summary, add a column
    if ids["lr0.0003-s0"] not in before:
        click_row_checkbox(page, ids["lr0.0003-s0"])
    where = 'params.lr >= 1e-3 and params.model == "base"'
    set_filter(page, where)
    expect = [r["id"] for r in server.get("/api/runs?limit=1000&where=" + webstore.urllib.parse.quote(where))["runs"]]
    page.wait("document.querySelectorAll('#runs tbody tr.run').length === %d" % len(expect), what="filtered")
    page.eval("document.querySelector('#colchooser').open = true; Table.render()")
    if not page.eval("document.querySelector(\"#colchooser input[data-key='train/loss.last']\").checked"):
        page.click(*center(page, "#colchooser input[data-key='train/loss.last']"))
    page.eval("document.querySelector('#colchooser').open = false; window.scrollTo(0, 0)")
    page.click(*center(page, "#runs th[data-sort='train/loss.last']"))
    order = [r["id"] for r in server.get("/api/runs?limit=1000&sort=train/loss.last&where=" + webstore.urllib.parse.quote(where))["runs"]]
    page.wait("JSON.stringify(%s) === JSON.stringify([...document.querySelectorAll('#runs tbody tr.run')].map(r => r.dataset.id))" % json.dumps(order), what="sorted by train/loss last")
    # the hidden run stays selected, and the count line says so
    assert ids["lr0.0003-s0"] in page.eval("S.selected") and ids["lr0.0003-s0"] not in table_ids(page)
    assert "hidden by the filter" in page.eval("document.querySelector('#count').textContent")
    # numbers as people write them in every cell: no 3.000e-4 or 0.0010000
    cells = page.eval("[...document.querySelectorAll('#runs tbody td')].map(t => t.textContent)")
    assert not [c for c in cells if "e-" in c and "." in c.split("e")[0] and c.split("e")[0].endswith("0")]
    page.eval("URLState.saveNow()")
    snap = table_snapshot(page)
    q = page.eval("Object.fromEntries(new URLSearchParams(location.search))")
    assert q["where"] == where and q["sort"] == "train/loss.last" and "train/loss.last" in q["cols"].split(",")
    other = browser.new_page()
    try:
        other.goto(page.eval("location.href"))
        other.wait("document.querySelectorAll('#runs tbody tr.run').length === %d" % len(expect), what="table restored")
        assert table_snapshot(other) == snap
        shot(other, "16-table-restored")
    finally:
        other.close()
        page.front()
    set_filter(page, "")
    page.wait("document.querySelectorAll('#runs tbody tr.run').length === %d" % len(ids), what="every run back")
    page.eval("App.select(%s)" % json.dumps(before))


def drawn_for(server, page, metric):
    runs = {r["id"]: r for r in server.get("/api/runs?limit=1000")["runs"]}
    return sum(1 for rid in checked_ids(page) if metric in runs[rid]["metrics"])


def test_axes_are_readable(server, page):
    n_acc = drawn_for(server, page, "val/acc")
    wait_panel(page, "val/acc", n_acc)
    for m in ("train/loss", "val/acc", "val/loss"):
        for lab in tick_labels(page, m):
            t = lab["t"].replace("k", "e3")
            assert len(lab["t"]) <= 7 and math.isfinite(float(t)), (m, lab)  # round values, no 0.313607
    # log y: ticks at powers of ten (or 2 and 5 times them)
    ys = [float(l["t"].replace("k", "e3")) for l in tick_labels(page, "val/loss") if l["anchor"] == "end"]
    assert ys and all(float("%.0e" % v) == v and int(("%.0e" % v)[0]) in (1, 2, 5) for v in ys), ys
    # wall time: dates on the axis; relative: durations
    set_control(page, "#xaxis", "time")
    page.wait("document.querySelector(%s + ' .axtitle').textContent.startsWith('wall time')" % json.dumps(panel_sel("val/acc")), what="time axis")
    wait_panel(page, "val/acc", n_acc)
    xs = [l["t"] for l in tick_labels(page, "val/acc") if l["anchor"] == "middle"]
    assert xs and xs[0].startswith("Nov 24 ") and all(len(x) <= 15 for x in xs), xs
    shot(page, "10-wall-time")
    set_control(page, "#xaxis", "relative")
    page.wait("document.querySelector(%s + ' .axtitle').textContent.startsWith('time since')" % json.dumps(panel_sel("val/acc")), what="relative axis")
    wait_panel(page, "val/acc", n_acc)
    xs = [l["t"] for l in tick_labels(page, "val/acc") if l["anchor"] == "middle"]
    import re
    assert xs and all(re.fullmatch(r"0|(\d+d)?(\d+h)?(\d+m)?(\d+(\.\d)?s)?", x) for x in xs), xs
    set_control(page, "#xaxis", "step")
    page.wait("document.querySelector(%s + ' .axtitle').textContent === 'step'" % json.dumps(panel_sel("val/acc")), what="step axis")


def test_smoothing_and_outliers(server, page):
    ids = ids_by_name(server)
    sel = panel_sel("train/loss")
    set_control(page, "#smooth", "0.8", event="input")
    n = drawn_for(server, page, "train/loss")
    wait_panel(page, "train/loss", n)
    raw = page.eval("[...document.querySelectorAll(%s + ' path.line.raw')].map(p => p.getAttribute('stroke-opacity'))" % json.dumps(sel))
    smooth = page.eval("document.querySelectorAll(%s + ' path.line.smooth').length" % json.dumps(sel))
    assert smooth == len(raw) == n and all(float(o) < 0.5 for o in raw), (raw, smooth)
    set_control(page, "#smooth", "0", event="input")
    page.wait("document.querySelectorAll(%s + ' path.line.smooth').length === 0" % json.dumps(sel), what="smoothing off")
    y1 = page.eval("Number(document.querySelector(%s + ' svg.chart').dataset.y1)" % json.dumps(sel))
    assert y1 >= 289000
    set_control(page, "#outliers", checked=True)
    page.wait("Number(document.querySelector(%s + ' svg.chart').dataset.y1) < 100" % json.dumps(sel), what="outliers ignored in the y range")
    off = page.eval("document.querySelectorAll(%s + ' .marker.off.high[data-run=%s]').length" % (json.dumps(sel), json.dumps(ids["diverged"])))
    assert off > 0, "values above the range are marked"
    shot(page, "11-outliers")
    set_control(page, "#outliers", checked=False)
    page.wait("Number(document.querySelector(%s + ' svg.chart').dataset.y1) >= 289000" % json.dumps(sel), what="full range back")


def set_group(page, keys):
    """Checks exactly `keys`, in this order, in the group-by chooser (clicking its checkboxes)."""
    page.eval("window.scrollTo(0, 0); document.querySelector('#groupchooser').open = true")
    for k in keys:
        page.wait("!!document.querySelector('#groupchooser input[data-group=%s]')" % json.dumps(k), what="group key %s offered" % k)
    for k in page.eval("[...document.querySelectorAll('#groupchooser input[data-group]')].filter(c => c.checked).map(c => c.dataset.group)"):
        page.click(*center(page, "#groupchooser input[data-group=%s]" % json.dumps(k)))
    for k in keys:
        if not page.eval("document.querySelector('#groupchooser input[data-group=%s]').checked" % json.dumps(k)):
            page.click(*center(page, "#groupchooser input[data-group=%s]" % json.dumps(k)))
    page.wait("S.group === %s" % json.dumps(",".join(keys)), what="grouped by %s" % keys)
    page.eval("document.querySelector('#groupchooser').open = false")


def check_group_hover(server, page, metric, members_of, x="step", frac=0.5):
    """Hovers `metric`'s panel and checks every group's bucket against the API: the curves of the
    group's members on the panel's grid, pooled (count, NaN, ±Inf, min, max exactly; mean).
    The cursor goes to the middle of the bucket a fraction `frac` along the first group's buckets."""
    sel = json.dumps(panel_sel(metric))
    page.eval("document.querySelector(%s).scrollIntoView({block: 'center'})" % sel)
    f = page.eval("(() => { const p = Workspace.panels.get(%s); const s = p.svg.dataset; const rows = p.groups[0].rows; const r = rows[Math.floor(rows.length * %f)];"
                  " return ((r.x0 + r.x1) / 2 - Number(s.x0)) / (Number(s.x1) - Number(s.x0)); })()" % (json.dumps(metric), frac))
    rows, _, q = hover_rows(page, metric, f)
    checked = 0
    for row in rows:
        if "bucket" not in row:
            continue
        members = members_of(row["run"][len("group:"):])
        got = []
        for rid, labels in members:
            c = server.curve(rid, metric, x=x, buckets=q["buckets"], frm=q["from"], to=q["to"], labels=labels)
            got += [b for b in c["rows"] if b["bucket"] == int(row["bucket"])]
        assert got, row
        count, nan = sum(b["count"] for b in got), sum(b["nan"] for b in got)
        assert (int(row["count"]), int(row["nan"]), int(row["runs"])) == (count, nan, len(got)), (row, got)
        assert api_num(row["min"]) == min(api_num(b["min"]) for b in got) and api_num(row["max"]) == max(api_num(b["max"]) for b in got)
        n = count - nan
        mean = sum((b["count"] - b["nan"]) * api_num(b["mean"]) for b in got) / n
        var = sum((b["count"] - b["nan"]) * (api_num(b["std"]) ** 2 + (api_num(b["mean"]) - mean) ** 2) for b in got) / n
        assert math.isclose(api_num(row["mean"]), mean, rel_tol=1e-9) and math.isclose(api_num(row["std"]), math.sqrt(var), rel_tol=1e-6, abs_tol=1e-12), (row, mean, var)
        checked += 1
    page.mouse("mouseMoved", 5, 5)
    return checked


def test_grouping_by_params_and_labels_honours_the_x_axis(server, page):
    runs = server.get("/api/runs?limit=1000")["runs"]
    def by_params(*keys):
        def members(name):
            want = dict(part.split("=", 1) for part in name.split(", "))
            return [(r["id"], None) for r in runs if "val/acc" in r["metrics"]
                    and all(str(r["params"].get(k)) == want[k] for k in keys)]
        return members
    seeds = sorted({str(r["params"]["seed"]) for r in runs if "val/acc" in r["metrics"]})
    set_group(page, ["seed"])
    for x, title in (("step", "step"), ("relative", "time since"), ("time", "wall time")):
        set_control(page, "#xaxis", x)
        page.wait("document.querySelector(%s + ' .axtitle').textContent.startsWith(%s)" % (json.dumps(panel_sel("val/acc")), json.dumps(title)), what="%s axis" % x)
        wait_panel(page, "val/acc", len(seeds))
        legend = page.eval("[...document.querySelectorAll(%s + ' .plegend .item')].map(e => e.dataset.group)" % json.dumps(panel_sel("val/acc")))
        assert sorted(legend) == sorted("seed=" + s for s in seeds)
        assert page.eval("document.querySelectorAll(%s + ' path.std').length" % json.dumps(panel_sel("val/acc"))) == len(seeds)
        assert check_group_hover(server, page, "val/acc", by_params("seed"), x=x, frac=0.3) >= 2
        if x == "step":
            shot(page, "12-groups")
    set_control(page, "#xaxis", "step")
    # two params: a group per (model, seed) that occurs
    set_group(page, ["model", "seed"])
    combos = sorted({"model=%s, seed=%s" % (r["params"]["model"], r["params"]["seed"]) for r in runs if "val/acc" in r["metrics"]})
    wait_panel(page, "val/acc", len(combos))
    assert sorted(page.eval("[...document.querySelectorAll(%s + ' .plegend .item')].map(e => e.dataset.group)" % json.dumps(panel_sel("val/acc")))) == combos
    assert check_group_hover(server, page, "val/acc", by_params("model", "seed")) >= 2
    # a context label: the ddp run's train/loss per rank
    set_group(page, ["label:rank"])
    ddp = [r["id"] for r in runs if r["name"] == "ddp"][0]
    wait_panel(page, "train/loss", 2)
    assert check_group_hover(server, page, "train/loss", lambda name: [(ddp, {"rank": name.split("=")[1]})]) == 2
    page.eval("URLState.saveNow()")
    assert page.eval("new URLSearchParams(location.search).get('group')") == "label:rank"
    set_group(page, [])
    wait_panel(page, "val/acc", drawn_for(server, page, "val/acc"))


def test_sweeps_scatter_brush_selects_runs(server, page):
    page.eval("window.scrollTo(0, 0); document.querySelector('#sweeps').open = true")
    set_control(page, "#sweepx", "lr")
    set_control(page, "#sweepy", "val/loss.min")
    runs = server.get("/api/runs?limit=1000")["runs"]
    have = [r for r in runs if "val/loss" in r["metrics"] and math.isfinite(api_num(r["metrics"]["val/loss"]["min"]))]
    page.wait("document.querySelector('#scatter').dataset.points === %s" % json.dumps(str(len(have))), what="one dot per run with lr and val/loss")
    geo = page.eval("(() => { const s = document.querySelector('#scatter'); s.scrollIntoView({block: 'center'}); const b = s.getBoundingClientRect(); return {left: b.left, top: b.top, w: b.width, h: b.height}; })()")
    dots = page.eval("[...document.querySelectorAll('#scatter circle.dot')].map(c => ({run: c.dataset.run, x: Number(c.getAttribute('cx')), y: Number(c.getAttribute('cy'))}))")
    xs = sorted({d["x"] for d in dots})
    cut = (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2       # between two lr columns
    page.drag(geo["left"] + cut, geo["top"] + 2, geo["left"] + geo["w"] - 2, geo["top"] + geo["h"] - 2)
    inside = sorted(d["run"] for d in dots if d["x"] >= cut)
    page.wait("JSON.stringify([...document.querySelectorAll('#runs input.sel:checked')].map(e => e.closest('tr').dataset.id).sort()) === %s" % json.dumps(json.dumps(inside, separators=(",", ":"))),
              what="the brushed runs selected")
    lr = {r["id"]: r["params"]["lr"] for r in runs}
    outside = [d["run"] for d in dots if d["x"] < cut]
    assert inside and outside and min(lr[i] for i in inside) > max(lr[o] for o in outside)
    shot(page, "13-sweeps")


def pc_axes(page):
    return {a["key"]: a for a in page.eval("[...document.querySelectorAll('#parcoords g.pcaxis')].map(g => Object.assign({}, g.dataset))")}


def pc_y(axis, v):
    """The page y of value `v` on a numeric parallel-coordinates axis (its top, height, range, log)."""
    t = math.log10 if axis["log"] == "1" else (lambda x: x)
    lo, hi = float(axis["lo"]), float(axis["hi"])
    return float(axis["top"]) + (t(hi) - t(v)) / (t(hi) - t(lo)) * float(axis["h"])


def test_parallel_coordinates_brushes_select_runs(server, page):
    before = checked_ids(page)
    page.eval("window.scrollTo(0, 0); document.querySelector('#sweeps').open = true; Sweeps.render()")
    set_control(page, "#sweepy", "val/loss.min")
    runs = server.get("/api/runs?limit=1000")["runs"]
    page.wait("(document.querySelector('#parcoords').dataset.axes || '').endsWith('summary')", what="parallel coordinates drawn")
    axes = pc_axes(page)
    # an axis per param that varies (batch, lr, model, seed), then the summary; a line per run
    varying = sorted(k for k in {k for r in runs for k in r["params"]} if len({json.dumps(r["params"].get(k)) for r in runs}) > 1)
    assert page.eval("document.querySelector('#parcoords').dataset.axes") == ",".join(["params." + k for k in varying] + ["summary"])
    assert sorted(page.eval("[...document.querySelectorAll('#parcoords path.pline')].map(p => p.dataset.run)")) == sorted(r["id"] for r in runs)
    geo = page.eval("(() => { const s = document.querySelector('#parcoords'); s.scrollIntoView({block: 'center'}); const b = s.getBoundingClientRect(); return {left: b.left, top: b.top}; })()")
    lr = axes["params.lr"]
    assert lr["log"] == "1"   # 3e-4 to 0.1: log axis
    lrs = sorted({r["params"]["lr"] for r in runs})
    # brush lr from between its two smallest values up past the largest: lr >= lrs[1]
    x = geo["left"] + float(lr["x"])
    ya = geo["top"] + (pc_y(lr, lrs[0]) + pc_y(lr, lrs[1])) / 2
    yb = geo["top"] + float(lr["top"]) - 2
    page.drag(x, ya, x + 1, yb)
    first = sorted(r["id"] for r in runs if r["params"]["lr"] >= lrs[1])
    want = json.dumps(json.dumps(first, separators=(",", ":")))
    page.wait("JSON.stringify([...document.querySelectorAll('#runs input.sel:checked')].map(e => e.closest('tr').dataset.id).sort()) === %s" % want,
              what="the runs inside the lr brush selected")
    assert sorted(page.eval("S.selected")) == first
    # and a brush on the summary: val/loss min at most a value between two of those runs' values
    summ = pc_axes(page)["summary"]
    vals = sorted({api_num(r["metrics"]["val/loss"]["min"]) for r in runs if r["id"] in first and "val/loss" in r["metrics"]})
    cut = (vals[len(vals) // 2 - 1] + vals[len(vals) // 2]) / 2
    x = geo["left"] + float(summ["x"])
    page.drag(x, geo["top"] + pc_y(summ, cut), x, geo["top"] + float(summ["top"]) + float(summ["h"]) + 3)
    # (a run without val/loss is drawn under the axis: no brush holds it)
    both = sorted(r["id"] for r in runs if r["id"] in first and "val/loss" in r["metrics"] and api_num(r["metrics"]["val/loss"]["min"]) <= cut)
    assert both and len(both) < len(first)
    page.wait("JSON.stringify([...document.querySelectorAll('#runs input.sel:checked')].map(e => e.closest('tr').dataset.id).sort()) === %s" % json.dumps(json.dumps(both, separators=(",", ":"))),
              what="the runs inside both brushes selected")
    # the panels chart exactly the selection, and the brushes are in the URL
    page.eval("URLState.saveNow()")
    assert "pc" in page.eval("Object.fromEntries(new URLSearchParams(location.search))")
    shot(page, "14-parallel-coordinates")
    # clicking an axis clears its brush; the selection goes back to what it was for the next tests
    for k in ("summary", "params.lr"):
        a = pc_axes(page)[k]
        page.click(geo["left"] + float(a["x"]), geo["top"] + float(a["top"]) + 20)
    page.wait("Object.keys(S.brushes).length === 0", what="brushes cleared")
    page.eval("App.select(%s); document.querySelector('#sweeps').open = false" % json.dumps(before))


def test_baseline_deltas_in_hover_and_summary(server, page):
    ids = ids_by_name(server)
    base = ids["lr0.003-s0"]
    page.click(*center(page, "#runs tr.run[data-id=%s] input.base" % json.dumps(base)))
    page.wait("(document.querySelector('#runs input.base:checked') || {closest: () => ({dataset: {}})}).closest('tr').dataset.id === %s" % json.dumps(base), what="baseline set")
    n = drawn_for(server, page, "train/loss")
    wait_panel(page, "train/loss", n)
    rows, x, q = hover_rows(page, "train/loss", 0.3)
    b = [r for r in rows if r["run"] == base][0]
    others = [r for r in rows if r["run"] != base and "bucket" in r and math.isfinite(api_num(r["mean"]))]
    assert others
    for r in others:
        d = api_num(r["mean"]) - api_num(b["mean"])
        abs_text, pct_text = r["cells"][-2], r["cells"][-1]
        assert math.isclose(float(abs_text), d, rel_tol=1e-3, abs_tol=1e-12), (abs_text, d)
        assert math.isclose(float(pct_text.rstrip("%")), d / abs(api_num(b["mean"])) * 100, rel_tol=1e-2), (pct_text, d)
    # the summary row: deltas of the last values against the baseline's
    runs = {r["id"]: r for r in server.get("/api/runs?limit=1000")["runs"]}
    rows = page.eval("[...document.querySelectorAll(%s + ' table.summary tbody tr')].map(r => ({run: r.dataset.run, cells: [...r.cells].map(c => c.textContent)}))" % json.dumps(panel_sel("train/loss")))
    bl = api_num(runs[base]["metrics"]["train/loss"]["last"])
    checked = 0
    for r in rows:
        last = api_num(runs[r["run"]]["metrics"]["train/loss"]["last"])
        if r["run"] == base or not math.isfinite(last):
            continue
        assert math.isclose(float(r["cells"][5]), last - bl, rel_tol=1e-3), r
        checked += 1
    assert checked >= 1
    shot(page, "15-baseline")
    page.mouse("mouseMoved", 5, 5)


def test_comparison_with_the_baseline_shows_the_apis_verdicts(server, page):
    """The comparison view: one row per selected run against the baseline, each the answer of
    GET /api/compare (values, interval, verdict), an error in the row when the API refuses."""
    ids = ids_by_name(server)
    base, faster, diverged = ids["lr0.001-s0"], ids["lr0.003-s0"], ids["diverged"]
    page.eval("App.select(%s)" % json.dumps([base, faster, diverged]))
    page.click(*center(page, "#runs tr.run[data-id=%s] input.base" % json.dumps(base)))
    page.wait("(document.querySelector('#runs input.base:checked') || {closest: () => ({dataset: {}})}).closest('tr').dataset.id === %s" % json.dumps(base), what="baseline set")
    page.click(*center(page, "#comparebox > summary"))
    page.wait("document.querySelector('#comparebox').open", what="comparison open")
    set_control(page, "#cmpmetric", "train/loss")
    set_control(page, "#cmpstat", "p50")
    set_control(page, "#cmpfrom", "200")
    page.wait("document.querySelector('#comparebox').dataset.rows === '2' && document.querySelectorAll('#cmptable tbody tr').length === 2", what="two comparison rows")
    rows = page.eval("[...document.querySelectorAll('#cmptable tbody tr')].map(r => ({id: r.dataset.id, verdict: r.dataset.verdict,"
                     " cells: Object.fromEntries([...r.cells].filter(c => c.dataset.k).map(c => [c.dataset.k, c.textContent])), text: r.textContent}))")
    by_id = {r["id"]: r for r in rows}
    # Seeds of the same config (params but the seed) on each side: 2 vs 2, Welch's interval.
    api = server.get("/api/compare?baseline=%s&candidate=%s&metric=train/loss&stat=p50&from=200&seeds=1" % (base, faster))
    m = api["metrics"][0]
    r = by_id[faster]
    assert r["verdict"] == m["verdict"] and m["verdict"] in ("regression", "improvement", "within_noise")
    assert r["cells"]["sides"] == "2 vs 2 seeds" and m["method"] == "welch_t"
    assert math.isclose(float(r["cells"]["baseline"]), api_num(m["baseline"]), rel_tol=1e-3)
    assert math.isclose(float(r["cells"]["candidate"]), api_num(m["candidate"]), rel_tol=1e-3)
    lo, hi = (float(x) for x in r["cells"]["interval"].strip("[]").split(", "))
    assert math.isclose(lo, api_num(m["interval"][0]), rel_tol=1e-3) and math.isclose(hi, api_num(m["interval"][1]), rel_tol=1e-3)
    # The diverged run has no seeds: the API refuses an unequal comparison, and the row says why.
    assert by_id[diverged]["verdict"] == "error" and "replicates are required" in by_id[diverged]["text"]
    # Without seeds: one run a side, the block bootstrap over the window.
    set_control(page, "#cmpseeds", checked=False)
    page.wait("[...document.querySelectorAll('#cmptable tbody tr')].every(r => r.dataset.verdict !== 'error') && document.querySelectorAll('#cmptable tbody tr').length === 2", what="rows without seeds")
    sides = page.eval("[...document.querySelectorAll('#cmptable td[data-k=sides]')].map(c => c.textContent)")
    assert sides == ["1 vs 1 run", "1 vs 1 run"]
    api = server.get("/api/compare?baseline=%s&candidate=%s&metric=train/loss&stat=p50&from=200" % (base, faster))
    assert page.eval("document.querySelector('#cmptable tr[data-id=%s]').dataset.verdict" % json.dumps(faster)) == api["metrics"][0]["verdict"]
    shot(page, "20-comparison")
    page.eval("document.querySelector('#comparebox').open = false")


def test_run_page_shows_params_of_any_shape_as_written(server, page):
    """Lists, objects, null and integers beyond 2^53 on the run page: as JSON, with every digit,
    and null apart from an absent param (the API's values, not rounded by the browser)."""
    big = 123456789012345678901234567890
    server.ingest([{"run": "shapes", "params": {"aug": ["flip", "crop"], "opt": {"name": "adam", "betas": [0.9, 0.999]},
                                                "ckpt": None, "big": big, "seed": 2**60 + 1, "version": "1.10"}}])
    rid = ids_by_name(server)["shapes"]
    api = server.get("/api/runs/%s" % rid)["params"]
    assert api["aug"] == ["flip", "crop"] and api["ckpt"] is None and api["big"] == big and api["opt.betas"] == [0.9, 0.999], api
    page.eval("App.openRun(%s)" % json.dumps(rid))
    page.wait("!document.querySelector('#runview').hidden && document.querySelector('#runview h2') && document.querySelector('#runview h2').textContent === 'shapes'", what="run page of shapes")
    rows = page.eval("Object.fromEntries([...document.querySelectorAll('#runview table.kv')][1].querySelectorAll('tr').values().map(r => [r.cells[0].textContent, r.cells[1].textContent]))")
    assert rows == {"aug": '["flip", "crop"]', "big": str(big), "ckpt": "null", "opt.betas": "[0.9, 0.999]",
                    "opt.name": "adam", "seed": str(2**60 + 1), "version": "1.10"}, rows
    page.eval("history.back()")
    page.wait("document.querySelector('#runview').hidden", what="back to the workspace")
    assert page.browser.exceptions == [], page.browser.exceptions


def test_run_page_lists_the_runs_alert_events(server, page):
    """The run page lists the run's alert events as /api/alerts/events?run= gives them."""
    import time
    import urllib.request
    server.ingest([{"run": "alerted", "step": 0, "metrics": {"loss": 1.0}}])
    rid = ids_by_name(server)["alerted"]
    req = urllib.request.Request(server.url + "/api/alerts/rules", method="POST",
                                 data=json.dumps({"run": rid, "metric": "loss", "above": 5}).encode())
    req.add_header("Content-Type", "application/json")
    urllib.request.urlopen(req, timeout=30).read()
    # The server picks up a new rule on its one-second timer: cross and fall back until it fires
    # (the deadline only guards against a hang).
    step, events, deadline = 1, [], time.time() + 60
    while not events and time.time() < deadline:
        server.ingest([{"run": "alerted", "step": step, "metrics": {"loss": 9.0}},
                       {"run": "alerted", "step": step + 1, "metrics": {"loss": 0.5}}])
        step += 2
        events = server.get("/api/alerts/events?run=" + rid)["events"]
    assert events, "the rule never fired"
    page.eval("App.openRun(%s)" % json.dumps(rid))
    page.wait("document.querySelector('#runview div.alerts') && document.querySelector('#runview div.alerts').dataset.loaded === '1'", what="alerts of the run page")
    rows = page.eval("[...document.querySelectorAll('#runview table.alertlist tbody tr')].map(r => [r.dataset.id, ...[...r.cells].map(c => c.textContent)])")
    assert [(r[0], r[1], int(r[2]), float(r[3]), r[4]) for r in rows] == [
        (e["id"], e["series"], e["step"], e["value"], e["condition"]) for e in events], rows
    page.eval("history.back()")
    page.wait("document.querySelector('#runview').hidden", what="back to the workspace")
    assert page.browser.exceptions == [], page.browser.exceptions
