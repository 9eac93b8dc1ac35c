"use strict";
// One panel: one metric of the selected runs (or of the groups of a param), drawn from the exact
// `/api/curve` at the panel's pixel width (groups: their members' curves on one grid, pooled). Bucket means as lines (EMA-smoothed with
// the raw curve kept faint), the exact min–max envelope, NaN and ±Inf as markers, log or linear y,
// y range that can ignore outliers, zoom (drag a box), pan (shift-drag), reset (double-click), and a
// hover crosshair listing each run's bucket exactly as the API answered it.
//
// After drawing, the panel's <svg> carries data-drawn (series drawn), data-buckets (buckets plotted),
// data-x0/data-x1 (x domain), data-left/data-pw (plot area in px): the browser test reads them.
const M = { l: 58, r: 14, t: 16, b: 30 };
const SVGNS = "http://www.w3.org/2000/svg";
function svgEl(name, attrs, parent) {
  const e = document.createElementNS(SVGNS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}

class Panel {
  constructor(metric, parent, runs) {
    this.metric = metric;
    this.runs = runs || shownRuns;   // the run ids this panel draws
    this.series = [];      // [{id, name, color, baseline, rows: [{x, x0, x1, raw}], error}]
    this.groups = null;    // band mode: [{name, color, rows}]
    this.seq = 0;
    this.loadedKey = null;
    this.el = el("div", { class: "panel", "data-metric": metric }, parent);
    const head = el("div", { class: "phead" }, this.el);
    el("span", { class: "ptitle", title: metric }, head, metric);
    el("span", { class: "spacer" }, head);
    this.logBox = el("label", { class: "small" }, head);
    this.logInput = el("input", { type: "checkbox", class: "logy" }, this.logBox);
    this.logBox.appendChild(document.createTextNode(" log y"));
    this.logInput.onchange = () => { const ps = panelState(metric); ps.log = this.logInput.checked; delete ps.yr; URLState.save(); this.render(); };
    el("button", { class: "small reset", title: "reset zoom (or double-click the chart)", onclick: () => this.reset() }, head, "reset");
    this.status = el("span", { class: "pstatus error" }, head);
    this.box = el("div", { class: "pbox" }, this.el);
    this.svg = svgEl("svg", { class: "chart", "data-drawn": "0", "data-buckets": "0" }, this.box);
    this.tip = el("div", { class: "tip", hidden: "" }, this.box);
    this.legend = el("div", { class: "plegend" }, this.el);
    this.attachMouse();
  }

  get state() { return S.panels[this.metric] || {}; }
  reset() { const ps = panelState(this.metric); delete ps.xr; delete ps.yr; URLState.save(); this.load(true); }

  plotWidth() { return Math.max(60, Math.floor((this.svg.clientWidth || 600) - M.l - M.r)); }

  // The panel's query key: when it changes, the panel must be fetched again.
  key() {
    return JSON.stringify([S.group, S.group ? S.runs.map(r => r.id) : this.runs(), S.baseline, S.x, this.state.xr || null, this.plotWidth()]);
  }

  // Fetches the panel's data (only when visible; `force` after new points arrive).
  async load(force) {
    const key = this.key();
    if (!force && !this.stale && key === this.loadedKey) { if (!this.scale) this.render(); return; }
    this.loadedKey = key;
    this.stale = false;
    const seq = ++this.seq;
    const buckets = this.plotWidth();
    this.el.dataset.loading = "1";
    try {
      if (S.group) await this.loadGroups(buckets, seq);
      else await this.loadLines(buckets, seq);
    } finally {
      if (seq === this.seq) { delete this.el.dataset.loading; this.render(); }
    }
  }

  async loadLines(buckets, seq) {
    const ids = this.runs().filter(id => { const r = runInfo(id); return !r || r.metrics[this.metric]; });
    let range = this.state.xr || null;
    let grid = false;
    if (!range && S.x === "step") {
      // One step range for every run: their buckets line up. With a running run, the range has
      // room for a quarter more steps, so that new points fall into the same grid and only its
      // last buckets are fetched again (`follow`).
      let lo = Infinity, hi = -Infinity;
      for (const id of ids) { const s = runInfo(id) && runInfo(id).metrics[this.metric]; if (s) { lo = Math.min(lo, s.first_step); hi = Math.max(hi, s.last_step + 1); } }
      if (ids.some(id => (runInfo(id) || {}).status === "running")) hi += Math.max(16, Math.ceil((hi - lo) / 4));
      if (lo < hi && Number.isSafeInteger(lo) && Number.isSafeInteger(hi)) { range = [lo, hi]; grid = true; }
    }
    const q = id => ({ run: id, metric: this.metric, x: S.x, buckets, from: range ? Math.floor(range[0]) : null, to: range ? Math.max(Math.floor(range[0]) + 1, Math.ceil(range[1])) : null });
    const results = await Api.curves(ids, q(""));   // one request for the panel's runs
    if (seq !== this.seq) return;
    this.query = range ? { from: q("").from, to: q("").to, buckets } : { buckets };
    this.grid = grid ? this.query : null;
    this.el.dataset.buckets = String(buckets);
    if (range) { this.el.dataset.from = String(this.query.from); this.el.dataset.to = String(this.query.to); }
    else { delete this.el.dataset.from; delete this.el.dataset.to; }
    const errs = results.filter(r => r.error && !/has no series|no series/.test(r.error));
    this.status.textContent = errs.length ? errs[0].error : "";
    this.groups = null;
    this.series = results.filter(r => r.o).map(r => {
      const run = runInfo(r.id);
      const rows = r.o.rows.map(rowOf);
      return { id: r.id, name: run ? run.name : r.o.name || r.id, color: colorOf(r.id), baseline: r.id === S.baseline, rows, t0: r.o.t0 };
    });
  }

  // Live: the runs `ids` have new points in this metric. On the step axis, while the panel keeps
  // its grid (no zoom, every point of the run inside its range), only each run's last non-empty
  // bucket and the ones after it are fetched (`since` = that bucket's first step): unchanged
  // buckets are not asked again. The rows' counts must then add up to the run's summary count
  // (else points arrived elsewhere, e.g. after a rewind): otherwise the panel is fetched again.
  async follow(ids) {
    const g = this.grid;
    if (!g || S.group || this.state.xr || this.el.dataset.loading || this.key() !== this.loadedKey) return this.load(true);
    const todo = [];
    for (const id of ids) {
      const m = runInfo(id) && runInfo(id).metrics[this.metric];
      const s = this.series.find(x => x.id === id);
      if (!m && !s) continue;
      if (!m || !s || !s.rows.length || m.first_step < g.from || m.last_step >= g.to) return this.load(true);
      todo.push({ s, since: s.rows[s.rows.length - 1].x0, count: m.count });
    }
    if (!todo.length) return;
    const seq = this.seq;
    const got = await Promise.all(todo.map(t => Api.curve({ run: t.s.id, metric: this.metric, x: "step", buckets: g.buckets, from: g.from, to: g.to, since: t.since })
      .then(o => Object.assign(t, { o }), e => Object.assign(t, { error: e.message }))));
    if (seq !== this.seq) return;   // a full fetch started meanwhile
    for (const t of got) {
      if (t.error) { this.status.textContent = t.error; return this.load(true); }
      const rows = t.s.rows.filter(r => r.x1 <= t.since).concat(t.o.rows.map(rowOf));
      if (rows.reduce((n, r) => n + r.count, 0) !== t.count) return this.load(true);
      t.s.rows = rows;
    }
    this.render();
  }

  // Groups: the runs the filter shows (with a context-label key: their series of this metric that
  // carry the label) grouped by the keys' values. Every member's exact curve is fetched on one grid
  // of the panel's x axis (the zoom, or the union of the members' whole ranges), and each group's
  // buckets pool all their points: count, NaN, ±Inf, min, max exactly; mean and population std
  // from the members' bucket counts, means and stds (the parallel-variance formula).
  async loadGroups(buckets, seq) {
    const keys = groupKeys();
    const labelKeys = keys.filter(k => k.startsWith("label:")).map(k => k.slice(6));
    const members = [];
    for (const r of S.runs) {
      const pv = k => r.params[k] === undefined ? "(none)" : paramText(r.params[k]);
      if (!labelKeys.length) {
        if (r.metrics[this.metric]) members.push({ run: r.id, labels: {}, values: keys.map(pv) });
        continue;
      }
      for (const s of await App.seriesOf(r.id)) {
        if (s.metric !== this.metric || !labelKeys.every(k => s.labels && k in s.labels)) continue;
        members.push({ run: r.id, labels: s.labels, values: keys.map(k => k.startsWith("label:") ? s.labels[k.slice(6)] : pv(k)) });
      }
    }
    if (seq !== this.seq) return;
    let range = this.state.xr || null;
    if (!range && members.length) {
      const whole = await Promise.all(members.map(m => Api.curve({ run: m.run, metric: this.metric, labels: m.labels, x: S.x, buckets: 1 }).catch(() => null)));
      if (seq !== this.seq) return;
      let lo = Infinity, hi = -Infinity;
      for (const o of whole) if (o && o.rows.length) { lo = Math.min(lo, num(o.from)); hi = Math.max(hi, num(o.to)); }
      if (lo < hi && Number.isSafeInteger(lo) && Number.isSafeInteger(hi)) range = [lo, hi];
    }
    this.series = []; this.groups = [];
    if (!range) return;
    const from = Math.floor(range[0]), to = Math.max(from + 1, Math.ceil(range[1]));
    const got = await Promise.all(members.map(m => Api.curve({ run: m.run, metric: this.metric, labels: m.labels, x: S.x, buckets, from, to })
      .then(o => ({ m, o }), e => ({ m, error: e.message }))));
    if (seq !== this.seq) return;
    this.query = { from, to, buckets };
    Object.assign(this.el.dataset, { buckets: String(buckets), from: String(from), to: String(to) });
    const errs = got.filter(g => g.error);
    this.status.textContent = errs.length ? errs[0].error : "";
    const groups = new Map();
    for (const g of got) {
      if (!g.o) continue;
      const name = keys.map((k, i) => k.replace(/^label:/, "") + "=" + g.m.values[i]).join(", ");
      if (!groups.has(name)) groups.set(name, { members: [], acc: new Map() });
      const G = groups.get(name);
      G.members.push(g.m);
      for (const b of g.o.rows) {
        let a = G.acc.get(b.bucket);
        if (!a) G.acc.set(b.bucket, a = { bucket: b.bucket, x0: num(b.x0), x1: num(b.x1), count: 0, nan: 0, pinf: 0, ninf: 0, parts: [], min: Infinity, max: -Infinity, fmin: Infinity, fmax: -Infinity, first_step: Infinity, last_step: -Infinity, runs: 0 });
        a.count += b.count; a.nan += b.nan; a.pinf += b.pinf; a.ninf += b.ninf; a.runs++;
        a.first_step = Math.min(a.first_step, b.first_step); a.last_step = Math.max(a.last_step, b.last_step);
        const n = b.count - b.nan;
        if (n > 0) { a.parts.push([n, num(b.mean), num(b.std)]); a.min = Math.min(a.min, num(b.min)); a.max = Math.max(a.max, num(b.max)); }
        const r = rowOf(b);
        if (isFinite(r.min)) { a.fmin = Math.min(a.fmin, r.min); a.fmax = Math.max(a.fmax, r.max); }
      }
    }
    const names = [...groups.keys()].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    this.groups = names.map((name, i) => {
      const G = groups.get(name);
      const rows = [...G.acc.values()].sort((p, q) => p.bucket - q.bucket).map(a => {
        const n = a.parts.reduce((t, p) => t + p[0], 0);
        const mean = n ? a.parts.reduce((t, p) => t + p[0] * p[1], 0) / n : NaN;
        const std = n ? Math.sqrt(a.parts.reduce((t, p) => t + p[0] * (p[2] * p[2] + (p[1] - mean) * (p[1] - mean)), 0) / n) : NaN;
        const raw = { bucket: a.bucket, x0: a.x0, x1: a.x1, first_step: a.first_step, last_step: a.last_step, count: a.count, nan: a.nan, pinf: a.pinf, ninf: a.ninf,
          runs: a.runs, mean, std, min: n ? a.min : NaN, max: n ? a.max : NaN };
        const fin = a.fmin <= a.fmax;
        return { x: S.x === "step" ? (a.first_step + a.last_step) / 2 : (a.x0 + a.x1) / 2, x0: a.x0, x1: a.x1, mean, min: fin ? a.fmin : NaN, max: fin ? a.fmax : NaN,
          slo: mean - std, shi: mean + std, count: a.count, nan: a.nan, pinf: a.pinf, ninf: a.ninf, raw };
      });
      return { id: "group:" + name, name, color: PALETTE[i % PALETTE.length], rows, band: true, members: G.members.length };
    });
  }

  drawn() { return this.groups || this.series; }

  // The y domain: every finite bucket min/max (a divergence to a huge value stays in view), or
  // with "ignore outliers" the bucket means within 3 interquartile ranges of the middle half.
  yDomain(all, log) {
    const ok = v => isFinite(v) && (!log || v > 0);
    let lo = Infinity, hi = -Infinity;
    if (S.outliers) {
      const means = [];
      for (const s of all) for (const r of s.rows) if (ok(r.mean)) means.push(r.mean);
      means.sort((a, b) => a - b);
      if (means.length) {
        const q = f => means[Math.min(means.length - 1, Math.max(0, Math.round(f * (means.length - 1))))];
        // Tukey's fences at 3 IQR (in log space on a log axis), within the data's own range.
        const t = log ? Math.log10 : v => v, u = log ? v => Math.pow(10, v) : v => v;
        const q1 = t(q(0.25)), q3 = t(q(0.75)), iqr = Math.max(q3 - q1, Math.abs(q3) * 1e-9, 1e-300);
        lo = Math.max(t(means[0]), q1 - 3 * iqr); hi = Math.min(t(means[means.length - 1]), q3 + 3 * iqr);
        const pad = (hi - lo) * 0.05 || 1e-9;
        lo = u(lo - pad); hi = u(hi + pad);
      }
    } else {
      for (const s of all) for (const r of s.rows) for (const v of [r.min, r.max, r.mean]) if (ok(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      if (isFinite(lo) && !log) { const pad = (hi - lo) * 0.04; lo -= pad; hi += pad; }
      if (isFinite(lo) && log) { lo /= 1.2; hi *= 1.2; }
    }
    if (!isFinite(lo) || !isFinite(hi)) return null;
    if (hi <= lo) { const d = Math.abs(lo) * 0.1 || 1; lo = log ? lo / 2 : lo - d; hi = log ? hi * 2 : hi + d; }
    return [lo, hi];
  }

  render() {
    const svg = this.svg;
    const W = Math.floor(svg.clientWidth || 600), H = Math.floor(svg.clientHeight || 240);
    const pw = Math.max(60, W - M.l - M.r), ph = Math.max(40, H - M.t - M.b);
    const all = this.drawn();
    const log = !!this.state.log;
    this.logInput.checked = log;
    svg.innerHTML = "";
    this.legend.innerHTML = "";
    this.scale = null;
    let nb = 0, x0 = Infinity, x1 = -Infinity;
    for (const s of all) for (const r of s.rows) { nb++; if (isFinite(r.x0)) x0 = Math.min(x0, r.x0); if (isFinite(r.x1)) x1 = Math.max(x1, r.x1); }
    if (this.state.xr) { x0 = this.state.xr[0]; x1 = this.state.xr[1]; }
    let yd = this.yDomain(all, log);
    if (this.state.yr) yd = this.state.yr.slice();
    if (!nb || !yd || !(x1 > x0)) {
      svgEl("text", { x: M.l, y: M.t + 20, class: "empty" }, svg).textContent = this.runs().length || S.group ? "no points in range" : "select runs in the table";
      svg.dataset.drawn = "0"; svg.dataset.buckets = "0";
      return;
    }
    let [y0, y1] = yd;
    if (log && y0 <= 0) y0 = y1 / 1e6;
    const ty = log ? v => Math.log10(v) : v => v;
    const sx = v => M.l + (v - x0) / (x1 - x0) * pw;
    const sy = v => M.t + (1 - (ty(v) - ty(y0)) / (ty(y1) - ty(y0))) * ph;
    const inv = { x: p => x0 + (p - M.l) / pw * (x1 - x0), y: p => { const t = ty(y0) + (1 - (p - M.t) / ph) * (ty(y1) - ty(y0)); return log ? Math.pow(10, t) : t; } };
    this.scale = { x0, x1, y0, y1, pw, ph, W, H, sx, sy, inv, log };
    Object.assign(svg.dataset, { x0: String(x0), x1: String(x1), y0: String(y0), y1: String(y1), left: String(M.l), pw: String(pw), top: String(M.t), ph: String(ph) });

    // axes
    const grid = svgEl("g", { class: "grid" }, svg), axis = svgEl("g", { class: "axis" }, svg);
    const yt = log ? Ticks.log(y0, y1) : Ticks.linear(y0, y1, Math.max(2, Math.floor(ph / 32)));
    for (const t of yt.values) {
      const y = sy(t);
      svgEl("line", { x1: M.l, x2: M.l + pw, y1: y, y2: y }, grid);
      svgEl("text", { x: M.l - 5, y: y + 4, "text-anchor": "end" }, axis).textContent = yt.label(t);
    }
    const xKind = S.x;
    const approx = xKind === "time" ? 110 : 70;
    const n = Math.max(2, Math.floor(pw / approx));
    const xt = xKind === "time" ? Ticks.wall(x0, x1, n) : xKind === "relative" ? Ticks.relative(x0, x1, n) : Ticks.steps(x0, x1, n);
    if (xt.values.length < 2) xt.values = [x0, x1];   // too few round values in range: label both ends
    for (const t of xt.values) {
      const x = sx(t);
      svgEl("line", { x1: x, x2: x, y1: M.t, y2: M.t + ph }, grid);
      svgEl("text", { x, y: M.t + ph + 15, "text-anchor": "middle" }, axis).textContent = xt.label(t);
    }
    svgEl("line", { x1: M.l, x2: M.l + pw, y1: M.t + ph, y2: M.t + ph, class: "frame" }, axis);
    svgEl("text", { x: M.l + pw, y: H - 2, "text-anchor": "end", class: "axtitle" }, axis).textContent =
      { step: "step", time: "wall time (UTC)", relative: "time since the run's first point" }[S.x] + (S.group ? " · groups pool their runs' points per bucket" : "");

    svgEl("defs", {}, svg).innerHTML = `<clipPath id="clip-${this.uid()}"><rect x="${M.l}" y="${M.t}" width="${pw}" height="${ph}"/></clipPath>`;
    const plot = svgEl("g", { "clip-path": `url(#clip-${this.uid()})`, class: "plot" }, svg);
    const marks = svgEl("g", { class: "marks" }, svg);
    const ok = v => isFinite(v) && (!log || v > 0);
    const path = (rows, key) => {
      let d = "", pen = false;
      for (const r of rows) {
        const v = r[key];
        if (!ok(v) || !isFinite(r.x)) { pen = false; continue; }
        d += (pen ? "L" : "M") + sx(r.x).toFixed(1) + "," + sy(v).toFixed(1); pen = true;
      }
      return d;
    };
    const area = (rows, lo, hi) => {
      let d = "";
      let seg = [];
      const flush = () => {
        if (seg.length) d += "M" + seg.map(r => sx(r.x).toFixed(1) + "," + sy(r[hi]).toFixed(1)).join("L") + "L" +
          seg.slice().reverse().map(r => sx(r.x).toFixed(1) + "," + sy(r[lo]).toFixed(1)).join("L") + "Z";
        seg = [];
      };
      for (const r of rows) { if (ok(r[lo]) && ok(r[hi]) && isFinite(r.x)) seg.push(r); else flush(); }
      flush();
      return d;
    };
    const order = all.slice().sort((a, b) => (a.baseline ? 1 : 0) - (b.baseline ? 1 : 0));
    let drawn = 0;
    for (const s of order) {
      const smooth = S.smooth > 0 && !s.band;
      svgEl("path", { d: area(s.rows, "min", "max"), fill: s.color, "fill-opacity": s.band ? 0.10 : 0.13, class: "envelope" }, plot);
      if (s.band) svgEl("path", { d: area(s.rows, "slo", "shi"), fill: s.color, "fill-opacity": 0.25, class: "std" }, plot);
      const raw = svgEl("path", { d: path(s.rows, "mean"), fill: "none", stroke: s.color, "stroke-width": s.baseline ? 2.6 : 1.5,
        "stroke-opacity": smooth ? 0.28 : 1, class: "line raw" + (s.baseline ? " baseline" : "") }, plot);
      raw.dataset.run = s.id;
      if (!s.band && s.rows.length) raw.dataset.lastStep = String(Math.max(...s.rows.map(r => r.raw.last_step)));
      if (smooth) {
        ema(s.rows, S.smooth);
        const p = svgEl("path", { d: path(s.rows, "ema"), fill: "none", stroke: s.color, "stroke-width": s.baseline ? 2.8 : 1.8, class: "line smooth" + (s.baseline ? " baseline" : "") }, plot);
        p.dataset.run = s.id;
      }
      drawn++;
      this.markers(s, marks, sx, sy, y0, y1, pw, ph, log);
    }
    svg.dataset.drawn = String(drawn);
    svg.dataset.buckets = String(nb);
    this.hoverLine = svgEl("line", { class: "cross", x1: 0, x2: 0, y1: M.t, y2: M.t + ph, visibility: "hidden" }, svg);
    this.renderLegend();
  }

  uid() { if (!this._uid) this._uid = Math.random().toString(36).slice(2, 9); return this._uid; }

  // NaN, +Inf and −Inf buckets with the API's exact counts of each, and buckets whose values lie
  // outside the y range (ignored outliers, zoom, log scale) as markers on the edges.
  markers(s, g, sx, sy, y0, y1, pw, ph, log) {
    for (const r of s.rows) {
      if (!isFinite(r.x) || r.x < this.scale.x0 || r.x > this.scale.x1) continue;
      const x = sx(r.x);
      const add = (cls, shape, y, title) => {
        const m = svgEl("path", { d: shape(x, y), class: "marker " + cls, fill: s.color }, g);
        Object.assign(m.dataset, { run: s.id, x0: String(r.x0), x1: String(r.x1), count: String(cls === "nan" ? r.nan : cls === "inf pinf" ? r.pinf : cls === "inf ninf" ? r.ninf : "") });
        svgEl("title", {}, m).textContent = title;
      };
      const where = S.x === "step" ? `steps ${r.raw.first_step}–${r.raw.last_step}` : `bucket ${plain(r.x0)}–${plain(r.x1)}`;
      if (r.nan > 0) add("nan", (x, y) => `M${x - 4},${y}L${x},${y - 4}L${x + 4},${y}L${x},${y + 4}Z`, M.t - 8, `${s.name}: ${r.nan} NaN in ${where}`);
      if (r.pinf > 0) add("inf pinf", (x, y) => `M${x - 5},${y + 6}L${x},${y - 2}L${x + 5},${y + 6}Z`, M.t + 1, `${s.name}: ${r.pinf} +Inf in ${where}`);
      if (r.ninf > 0) add("inf ninf", (x, y) => `M${x - 5},${y - 6}L${x},${y + 2}L${x + 5},${y - 6}Z`, M.t + ph - 1, `${s.name}: ${r.ninf} −Inf in ${where}`);
      const hiV = isFinite(r.max) ? r.max : r.mean, loV = isFinite(r.min) ? r.min : r.mean;
      if (isFinite(hiV) && hiV > y1) add("off high", (x, y) => `M${x - 3},${y + 4}L${x},${y}L${x + 3},${y + 4}Z`, M.t + 3, `${s.name}: max ${exact(r.max)} above the y range in ${where}`);
      if (isFinite(loV) && (loV < y0 || (log && loV <= 0))) add("off low", (x, y) => `M${x - 3},${y - 4}L${x},${y}L${x + 3},${y - 4}Z`, M.t + ph - 3, `${s.name}: min ${exact(r.min)} below the y range in ${where}`);
    }
  }

  // Per run: last and min from the run's summary; with a baseline, their deltas (absolute and %).
  renderLegend() {
    const lg = this.legend;
    const all = this.drawn();
    if (this.groups) {
      for (const s of all) { const it = el("span", { class: "item", "data-group": s.name }, lg); el("span", { class: "swatch", style: `background:${s.color}` }, it); it.appendChild(document.createTextNode(s.name + " (" + s.members + (s.members === 1 ? " series)" : " series)"))); }
      el("span", { class: "hint" }, lg, "line: mean · dark: mean ± std · light: min–max");
      return;
    }
    const base = S.baseline && runInfo(S.baseline) && runInfo(S.baseline).metrics[this.metric];
    const t = el("table", { class: "summary" }, lg);
    const hr = el("tr", {}, el("thead", {}, t));
    for (const h of ["run", "last", "min", "max", "count"].concat(base ? ["Δ last", "Δ last %", "Δ min", "Δ min %"] : [])) el("th", {}, hr, h);
    const tb = el("tbody", {}, t);
    for (const s of all) {
      const sum = runInfo(s.id) && runInfo(s.id).metrics[this.metric];
      const tr = el("tr", { "data-run": s.id }, tb);
      const c = el("td", {}, tr); el("span", { class: "swatch", style: `background:${s.color}` }, c);
      c.appendChild(document.createTextNode(s.name + (s.baseline ? " (baseline)" : "")));
      if (!sum) continue;
      for (const v of [sum.last, sum.min, sum.max]) el("td", { class: "num" }, tr, short(v, 5));
      el("td", { class: "num" }, tr, String(sum.count));
      if (base) for (const k of ["last", "min"]) { const d = delta(num(sum[k]), num(base[k])); el("td", { class: "num" }, tr, s.baseline ? "" : d.abs); el("td", { class: "num" }, tr, s.baseline ? "" : d.pct); }
    }
  }

  // ---- hover, zoom, pan ----
  attachMouse() {
    const svg = this.svg;
    let drag = null;
    const pos = e => { const b = svg.getBoundingClientRect(); return { x: e.clientX - b.left, y: e.clientY - b.top }; };
    svg.addEventListener("mousemove", e => {
      const p = pos(e);
      if (drag) { this.dragMove(drag, p); return; }
      this.hover(p);
    });
    svg.addEventListener("mouseleave", () => { if (!drag) this.unhover(); });
    svg.addEventListener("mousedown", e => {
      if (!this.scale || e.button !== 0) return;
      e.preventDefault();
      const p = pos(e);
      drag = { start: p, pan: e.shiftKey, rect: null };
      this.unhover();
    });
    window.addEventListener("mouseup", e => {
      if (!drag) return;
      const d = drag; drag = null;
      this.dragEnd(d, pos(e));
    });
    svg.addEventListener("dblclick", () => this.reset());
  }

  dragMove(d, p) {
    const sc = this.scale; if (!sc) return;
    if (d.pan) {
      const plot = $(".plot", this.svg), marks = $(".marks", this.svg);
      const t = `translate(${p.x - d.start.x},${p.y - d.start.y})`;
      if (plot) plot.setAttribute("transform", t); if (marks) marks.setAttribute("transform", t);
      return;
    }
    if (!d.rect) d.rect = svgEl("rect", { class: "zoombox" }, this.svg);
    const xa = Math.min(d.start.x, p.x), xb = Math.max(d.start.x, p.x);
    const yBox = Math.abs(p.y - d.start.y) > 12;
    const ya = yBox ? Math.min(d.start.y, p.y) : M.t, yb = yBox ? Math.max(d.start.y, p.y) : M.t + sc.ph;
    Object.entries({ x: xa, y: ya, width: xb - xa, height: yb - ya }).forEach(([k, v]) => d.rect.setAttribute(k, v));
  }

  dragEnd(d, p) {
    const sc = this.scale; if (d.rect) d.rect.remove();
    if (!sc) return;
    const ps = panelState(this.metric);
    const clampX = v => Math.min(Math.max(v, M.l), M.l + sc.pw), clampY = v => Math.min(Math.max(v, M.t), M.t + sc.ph);
    const intRange = (a, b) => { let lo = Math.floor(a), hi = Math.ceil(b); if (hi <= lo) hi = lo + 1; return [lo, hi]; };
    if (d.pan) {
      const dx = p.x - d.start.x, dy = p.y - d.start.y;
      if (Math.abs(dx) < 2 && Math.abs(dy) < 2) { this.render(); return; }
      const span = sc.x1 - sc.x0, shift = -dx / sc.pw * span;
      ps.xr = intRange(sc.x0 + shift, sc.x1 + shift);
      if (Math.abs(dy) >= 2) ps.yr = [sc.inv.y(M.t + sc.ph - dy), sc.inv.y(M.t - dy)];
    } else {
      const xa = clampX(Math.min(d.start.x, p.x)), xb = clampX(Math.max(d.start.x, p.x));
      if (xb - xa < 5) return;
      ps.xr = intRange(sc.inv.x(xa), sc.inv.x(xb));
      if (Math.abs(p.y - d.start.y) > 12) {
        const ya = clampY(Math.min(d.start.y, p.y)), yb = clampY(Math.max(d.start.y, p.y));
        ps.yr = [sc.inv.y(yb), sc.inv.y(ya)];
      }
    }
    URLState.save();
    this.load();
  }

  unhover() { this.tip.hidden = true; if (this.hoverLine) this.hoverLine.setAttribute("visibility", "hidden"); $$(".hoverdot", this.svg).forEach(e => e.remove()); }

  // The crosshair: every series' bucket under the cursor, with the API's own values.
  hover(p) {
    const sc = this.scale;
    if (!sc || p.x < M.l || p.x > M.l + sc.pw) { this.unhover(); return; }
    const xv = sc.inv.x(p.x);
    this.hoverLine.setAttribute("x1", p.x); this.hoverLine.setAttribute("x2", p.x);
    this.hoverLine.setAttribute("visibility", "visible");
    $$(".hoverdot", this.svg).forEach(e => e.remove());
    const all = this.drawn();
    const find = s => s.rows.find(r => r.x0 <= xv && xv < r.x1) || null;
    const baseS = all.find(s => s.baseline);
    const baseRow = baseS ? find(baseS) : null;
    const tip = this.tip;
    tip.innerHTML = "";
    const t = el("table", {}, tip);
    const head = el("tr", {}, t);
    const cols = this.groups ? ["group", "mean", "std", "min", "max", "count", "runs", "NaN/Inf"] : ["run", "mean", "min", "max", "count", "NaN/Inf"].concat(baseRow ? ["Δ", "Δ%"] : []);
    for (const c of cols) el("th", {}, head, c);
    let any = false;
    for (const s of all) {
      const r = find(s);
      const tr = el("tr", { class: "tiprow", "data-run": s.id }, t);
      const c = el("td", {}, tr); el("span", { class: "swatch", style: `background:${s.color}` }, c); c.appendChild(document.createTextNode(s.name));
      if (!r) { el("td", { class: "num muted", colspan: cols.length - 1 }, tr, "—"); continue; }
      any = true;
      const b = r.raw;
      Object.assign(tr.dataset, { x0: String(b.x0 !== undefined ? b.x0 : b.step), mean: String(b.mean), min: String(b.min), max: String(b.max), count: String(b.count), nan: String(b.nan) });
      if (b.pinf !== undefined) Object.assign(tr.dataset, { pinf: String(b.pinf), ninf: String(b.ninf), finite: String(b.finite) });
      if (b.bucket !== undefined) tr.dataset.bucket = String(b.bucket);
      const vals = this.groups ? [b.mean, b.std, b.min, b.max] : [b.mean, b.min, b.max];
      for (const v of vals) el("td", { class: "num" }, tr, exact(v));
      el("td", { class: "num" }, tr, String(b.count));
      if (this.groups) { el("td", { class: "num" }, tr, String(b.runs)); tr.dataset.std = String(b.std); tr.dataset.runs = String(b.runs); }
      const flags = [];
      if (b.nan) flags.push(b.nan + " NaN");
      if (b.pinf) flags.push(b.pinf + " +Inf");
      if (b.ninf) flags.push(b.ninf + " −Inf");
      el("td", { class: "num" + (flags.length ? " bad" : "") }, tr, flags.join(", "));
      if (baseRow && !this.groups) {
        if (s === baseS) { el("td", { class: "num muted" }, tr, "base"); el("td", {}, tr); }
        else { const d = delta(r.mean, baseRow.mean); el("td", { class: "num" }, tr, d.abs); el("td", { class: "num" }, tr, d.pct); }
      }
      const y = S.smooth > 0 && !s.band && isFinite(r.ema) ? r.ema : r.mean;
      if (isFinite(y) && (!sc.log || y > 0)) svgEl("circle", { class: "hoverdot", cx: sc.sx(r.x), cy: sc.sy(y), r: 3, fill: s.color }, this.svg);
    }
    const xl = S.x === "step" ? "step " + plain(Math.floor(xv)) : S.x === "time" ? fmtDate(xv) + " UTC" : Ticks.duration(Math.round(xv));
    el("div", { class: "tiphead" }, tip, xl).dataset.x = String(xv);
    tip.insertBefore(tip.lastChild, t);
    tip.hidden = !any && !all.length;
    const left = p.x + 16 + tip.offsetWidth > sc.W ? Math.max(0, p.x - 16 - tip.offsetWidth) : p.x + 16;
    tip.style.left = left + "px"; tip.style.top = Math.max(0, p.y - 10) + "px";
  }
}

// A row of `/api/curve` as a panel draws it (x: the middle of the bucket's steps or bounds).
// Its min and max as drawn (envelope, y range) are the finite extremes where ±Inf hides them
// (`finite_min`/`finite_max`), so a divergence shows how far it went before the markers.
function rowOf(b) {
  return { x: S.x === "step" ? (b.first_step + b.last_step) / 2 : (num(b.x0) + num(b.x1)) / 2,
    x0: num(b.x0), x1: num(b.x1), mean: num(b.mean), min: num(b.finite_min !== undefined ? b.finite_min : b.min),
    max: num(b.finite_max !== undefined ? b.finite_max : b.max), count: b.count, nan: b.nan, pinf: b.pinf, ninf: b.ninf, raw: b };
}

// Debiased exponential moving average of the finite bucket means, into r.ema.
function ema(rows, a) {
  let acc = 0, w = 0;
  for (const r of rows) {
    if (isFinite(r.mean)) { acc = acc * a + (1 - a) * r.mean; w = w * a + (1 - a); }
    r.ema = w > 0 && isFinite(r.mean) ? acc / w : NaN;
  }
}

function delta(v, base) {
  if (!isFinite(v) || !isFinite(base)) return { abs: "", pct: "" };
  const d = v - base;
  const sign = d > 0 ? "+" : "";
  return { abs: sign + short(d, 4), pct: base !== 0 ? sign + short(d / Math.abs(base) * 100, 3) + "%" : "" };
}
