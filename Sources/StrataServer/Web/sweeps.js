"use strict";
// Sweeps: a scatter of one param against a run summary (e.g. lr against val/loss min) over the
// runs the filter shows; dragging a box selects the runs inside it (shift-drag adds to the selection).
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
    $("#sweepx").onchange = e => { S.sweepX = e.target.value; this.render(); };
    $("#sweepy").onchange = e => { S.sweepY = e.target.value; this.render(); };
    $("#sweeps").addEventListener("toggle", () => this.render());
  },
};
