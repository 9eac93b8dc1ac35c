"use strict";
// Sweeps, over the runs the filter shows: parallel coordinates of every param that varies against a
// chosen run summary (e.g. val/loss min), where brushing axes selects the runs inside every brush;
// and a scatter of one param against the summary, where dragging a box selects the runs inside it
// (shift-drag adds to the selection). The selection is the table's and the panels'.
const Sweeps = {
  options() {
    const params = new Set(), metrics = new Set();
    for (const r of S.runs) {
      for (const [k, v] of Object.entries(r.params)) if (typeof v === "number") params.add(k);
      Object.keys(r.metrics).forEach(m => metrics.add(m));
    }
    const ys = [];
    for (const m of [...metrics].sort()) for (const a of ["min", "last", "max"]) ys.push(m + "." + a);
    return { xs: [...params].sort(), ys };
  },
  render() {
    const box = $("#sweeps");
    if (!box.open) return;
    const { xs, ys } = this.options();
    const xsel = $("#sweepx"), ysel = $("#sweepy");
    const fill = (sel, vals, cur) => { sel.innerHTML = ""; for (const v of vals) el("option", { value: v }, sel, v); if (vals.includes(cur)) sel.value = cur; };
    fill(xsel, xs, S.sweepX || xs[0]); fill(ysel, ys, S.sweepY || ys.find(y => /loss\.min$/.test(y)) || ys[0]);
    S.sweepX = xsel.value; S.sweepY = ysel.value;
    ParCoords.render();
    const svg = $("#scatter");
    svg.innerHTML = "";
    const W = svg.clientWidth || 600, H = svg.clientHeight || 260;
    const pw = W - M.l - M.r, ph = H - M.t - M.b;
    const [ym, yagg] = [S.sweepY.slice(0, S.sweepY.lastIndexOf(".")), S.sweepY.slice(S.sweepY.lastIndexOf(".") + 1)];
    const pts = [];
    for (const r of S.runs) {
      const x = r.params[S.sweepX], s = r.metrics[ym];
      const y = s ? num(s[yagg]) : NaN;
      if (typeof x === "number" && isFinite(x) && isFinite(y)) pts.push({ r, x, y });
    }
    svg.dataset.points = String(pts.length);
    if (!pts.length) { svgEl("text", { x: M.l, y: M.t + 20, class: "empty" }, svg).textContent = "no run has both"; return; }
    const logx = pts.every(p => p.x > 0) && Math.max(...pts.map(p => p.x)) / Math.min(...pts.map(p => p.x)) > 20;
    const tx = logx ? Math.log10 : v => v;
    let x0 = Math.min(...pts.map(p => tx(p.x))), x1 = Math.max(...pts.map(p => tx(p.x)));
    let y0 = Math.min(...pts.map(p => p.y)), y1 = Math.max(...pts.map(p => p.y));
    const px = (x1 - x0) * 0.06 || 1, py = (y1 - y0) * 0.08 || Math.abs(y0) * 0.1 || 1;
    x0 -= px; x1 += px; y0 -= py; y1 += py;
    const sx = v => M.l + (tx(v) - x0) / (x1 - x0) * pw, sy = v => M.t + (1 - (v - y0) / (y1 - y0)) * ph;
    const grid = svgEl("g", { class: "grid" }, svg), axis = svgEl("g", { class: "axis" }, svg);
    const yt = Ticks.linear(y0, y1, 5);
    for (const t of yt.values) { svgEl("line", { x1: M.l, x2: M.l + pw, y1: sy(t), y2: sy(t) }, grid); svgEl("text", { x: M.l - 5, y: sy(t) + 4, "text-anchor": "end" }, axis).textContent = yt.label(t); }
    const xt = logx ? Ticks.log(Math.pow(10, x0), Math.pow(10, x1)) : Ticks.linear(x0, x1, 6);
    for (const t of xt.values) { svgEl("line", { x1: sx(t), x2: sx(t), y1: M.t, y2: M.t + ph }, grid); svgEl("text", { x: sx(t), y: M.t + ph + 15, "text-anchor": "middle" }, axis).textContent = xt.label(t); }
    svgEl("text", { x: M.l + pw, y: H - 2, "text-anchor": "end", class: "axtitle" }, axis).textContent = S.sweepX + (logx ? " (log)" : "") + "  →  " + S.sweepY;
    for (const p of pts) {
      const sel = S.selected.includes(p.r.id);
      const c = svgEl("circle", { cx: sx(p.x), cy: sy(p.y), r: sel ? 5 : 4, fill: sel ? colorOf(p.r.id) : "#9aa3ab", class: "dot" + (sel ? " sel" : "") }, svg);
      c.dataset.run = p.r.id;
      svgEl("title", {}, c).textContent = `${p.r.name}\n${S.sweepX} = ${plain(p.x)}\n${S.sweepY} = ${exact(p.y)}`;
      p.cx = sx(p.x); p.cy = sy(p.y);
    }
    this.pts = pts;
  },
  attach() {
    const svg = $("#scatter");
    let drag = null;
    const pos = e => { const b = svg.getBoundingClientRect(); return { x: e.clientX - b.left, y: e.clientY - b.top }; };
    svg.addEventListener("mousedown", e => { e.preventDefault(); drag = { a: pos(e), add: e.shiftKey, rect: svgEl("rect", { class: "zoombox" }, svg) }; });
    svg.addEventListener("mousemove", e => {
      if (!drag) return;
      const b = pos(e);
      Object.entries({ x: Math.min(drag.a.x, b.x), y: Math.min(drag.a.y, b.y), width: Math.abs(b.x - drag.a.x), height: Math.abs(b.y - drag.a.y) }).forEach(([k, v]) => drag.rect.setAttribute(k, v));
    });
    window.addEventListener("mouseup", e => {
      if (!drag) return;
      const d = drag; drag = null; d.rect.remove();
      const b = pos(e);
      if (Math.abs(b.x - d.a.x) < 4 && Math.abs(b.y - d.a.y) < 4) return;
      const lx = Math.min(d.a.x, b.x), hx = Math.max(d.a.x, b.x), ly = Math.min(d.a.y, b.y), hy = Math.max(d.a.y, b.y);
      const inside = (this.pts || []).filter(p => p.cx >= lx && p.cx <= hx && p.cy >= ly && p.cy <= hy).map(p => p.r.id);
      App.select(d.add ? [...new Set(S.selected.concat(inside))] : inside);
    });
    $("#sweepx").onchange = e => { S.sweepX = e.target.value; URLState.save(); this.render(); };
    $("#sweepy").onchange = e => { S.sweepY = e.target.value; delete S.brushes.summary; URLState.save(); this.render(); };
    ParCoords.attach();
    $("#sweeps").addEventListener("toggle", () => this.render());
  },
};

// A run summary named `METRIC.agg` (e.g. `val/loss.min`) of a run, as a number (undefined without it).
function summaryOf(r, name) {
  const i = name.lastIndexOf(".");
  const s = r.metrics[name.slice(0, i)];
  return s ? num(s[name.slice(i + 1)]) : undefined;
}

// Parallel coordinates: an axis per param with two or more values among the runs (numbers on a
// linear axis, or log when all are positive and span more than 20×; other values as evenly spaced
// categories), then the chosen summary. A run without a value (or a non-finite one) is drawn below
// the axis, where no brush reaches. A brush is a range of one axis, kept as fractions of its height
// (S.brushes, in the URL): the runs inside every brush are selected.
const ParCoords = {
  TOP: 30, BOTTOM: 34, LEFT: 64, RIGHT: 70, MISSING: 1.1,
  axes() {
    const vals = new Map();
    for (const r of S.runs) for (const [k, v] of Object.entries(r.params || {})) {
      if (!vals.has(k)) vals.set(k, new Set());
      vals.get(k).add(typeof v === "object" ? JSON.stringify(v) : v);
    }
    const axes = [...vals.keys()].filter(k => vals.get(k).size > 1).sort().map(k => this.axis("params." + k, k, r => r.params[k]));
    if (S.sweepY) axes.push(this.axis("summary", S.sweepY, r => summaryOf(r, S.sweepY)));
    return axes;
  },
  axis(key, label, value) {
    const present = S.runs.map(value).filter(v => v !== undefined && v !== null && !(typeof v === "number" && !isFinite(v)));
    const a = { key, label, value };
    if (present.length && present.every(v => typeof v === "number")) {
      const lo = Math.min(...present), hi = Math.max(...present);
      const log = lo > 0 && hi / lo > 20;
      const t = log ? Math.log10 : v => v;
      const [p, q] = hi > lo ? [t(lo), t(hi)] : [t(lo) - 1, t(lo) + 1];
      Object.assign(a, { numeric: true, lo, hi, log,
        pos: v => typeof v === "number" && isFinite(v) ? (q - t(v)) / (q - p) : null,
        ticks: hi > lo ? (log ? Ticks.log(lo, hi) : Ticks.linear(lo, hi, 4)) : { values: [lo], label: plain } });
    } else {
      const cats = [...new Set(present.map(v => typeof v === "object" ? JSON.stringify(v) : String(v)))]
        .sort((x, y) => (Number(x) - Number(y)) || x.localeCompare(y));
      const text = v => typeof v === "object" ? JSON.stringify(v) : String(v);
      Object.assign(a, { numeric: false, cats,
        pos: v => v === undefined || v === null || (typeof v === "number" && !isFinite(v)) ? null : cats.length === 1 ? 0.5 : cats.indexOf(text(v)) / (cats.length - 1),
        ticks: { values: cats, label: c => c } });
    }
    return a;
  },
  render() {
    const svg = $("#parcoords");
    svg.innerHTML = "";
    const W = svg.clientWidth || 800, H = svg.clientHeight || 300;
    const top = this.TOP, h = H - this.TOP - this.BOTTOM;
    const axes = this.axes();
    this.axesNow = axes;
    svg.dataset.axes = axes.map(a => a.key).join(",");
    if (axes.length < 2) { svgEl("text", { x: this.LEFT, y: top + 20, class: "empty" }, svg).textContent = "no param varies across these runs"; return; }
    const gap = (W - this.LEFT - this.RIGHT) / (axes.length - 1);
    axes.forEach((a, i) => { a.x = this.LEFT + i * gap; });
    const y = f => top + (f === null ? this.MISSING : f) * h;
    const lines = svgEl("g", {}, svg);
    const brushed = axes.some(a => S.brushes[a.key]);
    const order = S.runs.slice().sort((p, q) => S.selected.includes(p.id) - S.selected.includes(q.id));
    for (const r of order) {
      const sel = S.selected.includes(r.id);
      const d = axes.map((a, i) => (i ? "L" : "M") + a.x.toFixed(1) + "," + y(a.pos(a.value(r))).toFixed(1)).join("");
      const p = svgEl("path", { d, class: "pline" + (!sel && (brushed || S.selected.length) ? " dim" : ""), stroke: sel ? colorOf(r.id) : "#8a939c" }, lines);
      p.dataset.run = r.id;
      svgEl("title", {}, p).textContent = r.name + "\n" + axes.map(a => a.label + " = " + (a.numeric ? exact(a.value(r)) : paramText(a.value(r)))).join("\n");
    }
    for (const a of axes) {
      const g = svgEl("g", { class: "pcaxis axis" }, svg);
      Object.assign(g.dataset, { key: a.key, x: String(a.x), top: String(top), h: String(h), numeric: a.numeric ? "1" : "0" });
      if (a.numeric) Object.assign(g.dataset, { lo: String(a.lo), hi: String(a.hi), log: a.log ? "1" : "0" });
      else g.dataset.cats = JSON.stringify(a.cats);
      svgEl("line", { x1: a.x, x2: a.x, y1: top, y2: top + h, class: "pcaxis" }, g);
      svgEl("text", { x: a.x, y: top - 12, "text-anchor": "middle", class: "pctitle" }, g).textContent = a.label;
      for (const v of a.ticks.values) {
        const f = a.pos(v);
        if (f === null || f < -1e-9 || f > 1 + 1e-9) continue;
        svgEl("line", { x1: a.x - 3, x2: a.x, y1: y(f), y2: y(f), class: "pcaxis" }, g);
        svgEl("text", { x: a.x - 5, y: y(f) + 4, "text-anchor": "end" }, g).textContent = a.ticks.label(v);
      }
      if (S.runs.some(r => a.pos(a.value(r)) === null)) svgEl("text", { x: a.x - 5, y: y(null) + 4, "text-anchor": "end" }, g).textContent = "n/a";
      const b = S.brushes[a.key];
      if (b) svgEl("rect", { x: a.x - 7, width: 14, y: y(b[0]), height: Math.max(1, (b[1] - b[0]) * h), class: "brush" }, g);
    }
  },
  // The runs inside every brush (all brushes of axes shown), or null without a brush.
  inside() {
    const active = (this.axesNow || []).filter(a => S.brushes[a.key]);
    if (!active.length) return null;
    return S.runs.filter(r => active.every(a => {
      const f = a.pos(a.value(r)), [lo, hi] = S.brushes[a.key];
      return f !== null && f >= lo - 1e-9 && f <= hi + 1e-9;
    })).map(r => r.id);
  },
  attach() {
    const svg = $("#parcoords");
    let drag = null;
    const pos = e => { const b = svg.getBoundingClientRect(); return { x: e.clientX - b.left, y: e.clientY - b.top }; };
    const frac = p => Math.min(1, Math.max(0, (p.y - this.TOP) / ((svg.clientHeight || 300) - this.TOP - this.BOTTOM)));
    svg.addEventListener("mousedown", e => {
      const p = pos(e);
      const a = (this.axesNow || []).filter(a => Math.abs(a.x - p.x) <= 14).sort((u, v) => Math.abs(u.x - p.x) - Math.abs(v.x - p.x))[0];
      if (!a || e.button !== 0) return;
      e.preventDefault();
      drag = { a, start: p, rect: svgEl("rect", { x: a.x - 7, width: 14, y: p.y, height: 0, class: "brush" }, svg) };
    });
    svg.addEventListener("mousemove", e => {
      if (!drag) return;
      const p = pos(e);
      drag.rect.setAttribute("y", Math.min(p.y, drag.start.y)); drag.rect.setAttribute("height", Math.abs(p.y - drag.start.y));
    });
    window.addEventListener("mouseup", e => {
      if (!drag) return;
      const d = drag; drag = null; d.rect.remove();
      const p = pos(e);
      if (Math.abs(p.y - d.start.y) < 3) delete S.brushes[d.a.key];   // a click clears the axis' brush
      else S.brushes[d.a.key] = [Math.min(frac(p), frac(d.start)), Math.max(frac(p), frac(d.start))];
      URLState.save();
      const ids = this.inside();
      if (ids) App.select(ids); else this.render();
    });
  },
};
