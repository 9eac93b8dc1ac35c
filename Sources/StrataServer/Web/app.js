"use strict";
const $ = s => document.querySelector(s);
const enc = encodeURIComponent;
const palette = ["#2d6cdf","#e8590c","#2f9e44","#ae3ec9","#f08c00","#1098ad","#d6336c","#5c940d","#7048e8","#868e96"];
const state = { runs: [], selected: [], baseline: null, sort: "", metric: null, x: "step", view: "lines", group: null, zoom: null,
                token: localStorage.getItem("strataToken") || "", drawSeq: 0 };

function num(v) {
  if (typeof v === "number") return v;
  if (v === "NaN" || v == null) return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return Number(v);
}
function fmt(v) {
  v = num(v);
  if (!isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return String(Math.round(v * 1e6) / 1e6);
}
async function api(path) {
  const headers = state.token ? { Authorization: "Bearer " + state.token } : {};
  const r = await fetch(path, { headers });
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) {
    if (r.status === 401) $("#tokenbox").hidden = false;
    throw new Error(body && body.error ? body.error.message : ("HTTP " + r.status));
  }
  return body;
}

// ---- runs table ----
async function loadRuns() {
  $("#werror").textContent = "";
  const where = $("#where").value.trim();
  let path = "/api/runs?limit=5000";
  if (where) path += "&where=" + enc(where);
  if (state.sort) path += "&sort=" + enc(state.sort);
  try {
    const o = await api(path);
    state.runs = o.runs;
    $("#count").textContent = o.count + " of " + o.total + " runs";
  } catch (e) { $("#werror").textContent = e.message; return; }
  const ids = new Set(state.runs.map(r => r.id));
  state.selected = state.selected.filter(id => ids.has(id));
  if (state.selected.length === 0 && !state.touched) state.selected = state.runs.slice(0, 3).map(r => r.id);
  if (state.baseline && !ids.has(state.baseline)) state.baseline = null;
  renderTable();
  fillSelects();
  draw();
}

function columns() {
  const params = new Set(), metrics = new Set();
  for (const r of state.runs) { Object.keys(r.params).forEach(k => params.add(k)); Object.keys(r.metrics).forEach(k => metrics.add(k)); }
  return { params: [...params].sort().slice(0, 10), metrics: [...metrics].sort().slice(0, 8) };
}

function renderTable() {
  const { params, metrics } = columns();
  const head = [["", null], ["◎", null], ["name", "name"], ["status", "status"], ["tags", null], ["created", "created"]]
    .concat(params.map(p => [p, "params." + p])).concat(metrics.map(m => [m + " (last)", m + ".last"]));
  const thead = $("#runs thead");
  thead.innerHTML = "";
  const tr = document.createElement("tr");
  for (const [label, key] of head) {
    const th = document.createElement("th");
    const arrow = key && state.sort === key ? " ▲" : key && state.sort === "-" + key ? " ▼" : "";
    th.textContent = label + arrow;
    if (key) th.onclick = () => { state.sort = state.sort === key ? "-" + key : key; loadRuns(); };
    else th.className = "nosort";
    tr.appendChild(th);
  }
  thead.appendChild(tr);
  const tbody = $("#runs tbody");
  tbody.innerHTML = "";
  for (const r of state.runs) {
    const row = document.createElement("tr");
    row.className = "run" + (state.selected.includes(r.id) ? " selected" : "");
    row.dataset.id = r.id;
    const cb = document.createElement("input"); cb.type = "checkbox"; cb.checked = state.selected.includes(r.id);
    cb.onchange = () => { state.touched = true; toggle(r.id, cb.checked); };
    const rb = document.createElement("input"); rb.type = "radio"; rb.name = "baseline"; rb.checked = state.baseline === r.id;
    rb.onchange = () => { state.baseline = r.id; if (!state.selected.includes(r.id)) toggle(r.id, true); else draw(); };
    const cells = [cb, rb, r.name, r.status, null, new Date(r.created).toISOString().replace("T", " ").slice(0, 19)];
    cells.forEach((c, i) => {
      const td = document.createElement("td");
      if (c instanceof Node) td.appendChild(c);
      else if (i === 3) { td.textContent = c; td.className = "status-" + c; }
      else if (i === 4) { for (const t of r.tags) { const s = document.createElement("span"); s.className = "tag"; s.textContent = t; td.appendChild(s); } }
      else td.textContent = c;
      row.appendChild(td);
    });
    for (const p of params) {
      const td = document.createElement("td");
      const v = r.params[p];
      td.textContent = v === undefined ? "" : (typeof v === "number" ? fmt(v) : String(v));
      if (typeof v === "number") td.className = "num";
      row.appendChild(td);
    }
    for (const m of metrics) {
      const td = document.createElement("td"); td.className = "num";
      const s = r.metrics[m];
      if (s) { td.textContent = fmt(s.last); td.title = `min ${fmt(s.min)} at ${s.min_step}\nmax ${fmt(s.max)} at ${s.max_step}\ncount ${s.count}, steps ${s.first_step}–${s.last_step}`; }
      row.appendChild(td);
    }
    tbody.appendChild(row);
  }
}

function toggle(id, on) {
  state.selected = state.selected.filter(x => x !== id);
  if (on) state.selected.push(id);
  renderTable(); fillSelects(); draw();
}

function fillSelects() {
  const metrics = new Set(), params = new Set();
  const chosen = state.runs.filter(r => state.selected.includes(r.id));
  for (const r of (chosen.length ? chosen : state.runs)) Object.keys(r.metrics).forEach(m => metrics.add(m));
  for (const r of state.runs) Object.keys(r.params).forEach(p => params.add(p));
  const ms = [...metrics].sort();
  if (!state.metric || !metrics.has(state.metric)) state.metric = ms.find(m => /loss/.test(m)) || ms[0] || null;
  setOptions($("#metric"), ms, state.metric);
  const ps = [...params].sort();
  if (!state.group || !params.has(state.group)) state.group = ps[0] || null;
  setOptions($("#group"), ps, state.group);
}
function setOptions(sel, values, current) {
  sel.innerHTML = "";
  for (const v of values) { const o = document.createElement("option"); o.value = v; o.textContent = v; if (v === current) o.selected = true; sel.appendChild(o); }
}

// ---- chart ----
const M = { l: 64, r: 16, t: 14, b: 34 };
function svgEl(name, attrs, parent) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}
function niceTicks(lo, hi, n) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(f => f * mag).find(s => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) out.push(v);
  return out;
}
function xLabel(v) {
  if (state.x === "time") return new Date(v).toISOString().slice(11, 19);
  if (state.x === "relative") { const s = v / 1000; return s >= 3600 ? (s / 3600).toFixed(1) + "h" : s >= 60 ? (s / 60).toFixed(1) + "m" : s.toFixed(1) + "s"; }
  return Math.abs(v) >= 1e6 ? v.toExponential(2) : String(Math.round(v));
}

async function draw() {
  const seq = ++state.drawSeq;
  const svg = $("#chart");
  $("#cerror").textContent = "";
  $("#groupbox").hidden = state.view !== "band";
  const W = svg.clientWidth || 900, H = svg.clientHeight || 440;
  const pw = Math.max(50, W - M.l - M.r), ph = Math.max(50, H - M.t - M.b);
  const ids = state.selected.slice();
  if (!state.metric || (state.view === "lines" && ids.length === 0)) { clear(svg, "Select runs in the table to chart them."); return; }
  let series = [];
  try {
    if (state.view === "band") series = await bandSeries(pw);
    else series = await lineSeries(ids, pw);
  } catch (e) { $("#cerror").textContent = e.message; }
  if (seq !== state.drawSeq) return;   // a newer draw started
  render(svg, series, W, H, pw, ph);
}

async function lineSeries(ids, pw) {
  const buckets = Math.max(10, Math.min(4000, Math.floor(pw)));
  let range = state.zoom;
  if (!range && state.x === "step") {
    // One step range for every run, so their buckets line up.
    let lo = Infinity, hi = -Infinity;
    for (const r of state.runs) if (ids.includes(r.id) && r.metrics[state.metric]) { lo = Math.min(lo, r.metrics[state.metric].first_step); hi = Math.max(hi, r.metrics[state.metric].last_step + 1); }
    if (lo < hi) range = [lo, hi];
  }
  const q = id => `/api/curve?run=${enc(id)}&metric=${enc(state.metric)}&x=${state.x}&buckets=${buckets}` +
    (range ? `&from=${Math.floor(range[0])}&to=${Math.max(Math.floor(range[0]) + 1, Math.ceil(range[1]))}` : "");
  const results = await Promise.all(ids.map(id => api(q(id)).then(o => ({ id, o }), e => ({ id, error: e.message }))));
  const errs = results.filter(r => r.error && !/has no series/.test(r.error));
  if (errs.length) $("#cerror").textContent = errs[0].error;
  return results.filter(r => r.o).map((r, i) => {
    const run = state.runs.find(x => x.id === r.id);
    const color = palette[ids.indexOf(r.id) % palette.length];
    const pts = r.o.rows.map(b => ({
      x: state.x === "step" ? (b.first_step + b.last_step) / 2 : (num(b.x0) + num(b.x1)) / 2,
      y: num(b.mean), lo: num(b.min), hi: num(b.max) }));
    return { name: run ? run.name : r.id, id: r.id, color, pts, baseline: r.id === state.baseline, kind: "line" };
  });
}

async function bandSeries(pw) {
  if (!state.group) throw new Error("no param to group by");
  let lo = Infinity, hi = -Infinity;
  for (const r of state.runs) { const s = r.metrics[state.metric]; if (s) { lo = Math.min(lo, s.first_step); hi = Math.max(hi, s.last_step + 1); } }
  if (state.zoom) { lo = state.zoom[0]; hi = state.zoom[1]; }
  const width = Math.max(1, Math.ceil((hi - lo) / Math.max(10, pw / 3)));
  const where = $("#where").value.trim();
  const o = await api(`/api/band?metric=${enc(state.metric)}&group=${enc(state.group)}&width=${width}` + (where ? "&where=" + enc(where) : ""));
  const groups = new Map();
  for (const r of o.rows) {
    const x = r.step + width / 2;
    if (x < lo || x > hi) continue;
    if (!groups.has(r.group)) groups.set(r.group, []);
    const m = num(r.mean), s = num(r.std);
    groups.get(r.group).push({ x, y: m, lo: num(r.min), hi: num(r.max), slo: m - s, shi: m + s });
  }
  return [...groups.entries()].map(([g, pts], i) => ({ name: state.group + "=" + g, color: palette[i % palette.length], pts, kind: "band" }));
}

function clear(svg, message) {
  svg.innerHTML = "";
  svg.dataset.drawn = "0"; svg.dataset.buckets = "0";
  svgEl("text", { x: 20, y: 30, fill: "#6b7580" }, svg).textContent = message;
  $("#legend").innerHTML = "";
}

function render(svg, series, W, H, pw, ph) {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity, nb = 0;
  for (const s of series) for (const p of s.pts) {
    nb++;
    if (isFinite(p.x)) { x0 = Math.min(x0, p.x); x1 = Math.max(x1, p.x); }
    for (const v of [p.lo, p.hi, p.y]) if (isFinite(v)) { y0 = Math.min(y0, v); y1 = Math.max(y1, v); }
  }
  if (state.zoom) { x0 = state.zoom[0]; x1 = state.zoom[1]; }
  if (!(nb > 0) || !isFinite(y0)) { clear(svg, "No points for " + (state.metric || "this metric") + "."); return; }
  if (x1 <= x0) { x1 = x0 + 1; }
  if (y1 <= y0) { y1 = y0 + 1; y0 -= 1; }
  const pad = (y1 - y0) * 0.04; y0 -= pad; y1 += pad;
  const sx = v => M.l + (v - x0) / (x1 - x0) * pw, sy = v => M.t + (1 - (v - y0) / (y1 - y0)) * ph;
  state.scale = { x0, x1, pw };
  svg.innerHTML = "";
  svgEl("defs", {}, svg).innerHTML = `<clipPath id="plot"><rect x="${M.l}" y="${M.t}" width="${pw}" height="${ph}"/></clipPath>`;
  const grid = svgEl("g", { class: "grid" }, svg), axis = svgEl("g", { class: "axis" }, svg);
  for (const t of niceTicks(y0, y1, 6)) {
    svgEl("line", { x1: M.l, x2: M.l + pw, y1: sy(t), y2: sy(t) }, grid);
    svgEl("text", { x: M.l - 6, y: sy(t) + 4, "text-anchor": "end" }, axis).textContent = fmt(t);
  }
  for (const t of niceTicks(x0, x1, 8)) {
    svgEl("line", { x1: sx(t), x2: sx(t), y1: M.t + ph, y2: M.t + ph + 4 }, axis);
    svgEl("text", { x: sx(t), y: M.t + ph + 18, "text-anchor": "middle" }, axis).textContent = xLabel(t);
  }
  svgEl("text", { x: M.l + pw, y: H - 4, "text-anchor": "end" }, axis).textContent =
    state.view === "band" ? "step" : { step: "step", time: "wall time (UTC)", relative: "time since the run's first point" }[state.x];
  const plot = svgEl("g", { "clip-path": "url(#plot)" }, svg);
  const order = series.slice().sort((a, b) => (a.baseline ? 1 : 0) - (b.baseline ? 1 : 0));   // baseline on top
  let drawn = 0;
  const area = (pts, lo, hi) => {
    const ok = pts.filter(p => isFinite(p[lo]) && isFinite(p[hi]) && isFinite(p.x));
    if (!ok.length) return "";
    return "M" + ok.map(p => sx(p.x).toFixed(1) + "," + sy(p[hi]).toFixed(1)).join("L") +
      "L" + ok.slice().reverse().map(p => sx(p.x).toFixed(1) + "," + sy(p[lo]).toFixed(1)).join("L") + "Z";
  };
  const line = pts => {
    let d = "", pen = false;
    for (const p of pts) {
      if (!isFinite(p.y) || !isFinite(p.x)) { pen = false; continue; }
      d += (pen ? "L" : "M") + sx(p.x).toFixed(1) + "," + sy(p.y).toFixed(1); pen = true;
    }
    return d;
  };
  for (const s of order) {
    const color = s.baseline ? "#111" : s.color;
    svgEl("path", { d: area(s.pts, "lo", "hi"), fill: color, "fill-opacity": s.kind === "band" ? 0.10 : 0.16, stroke: "none", class: "envelope" }, plot);
    if (s.kind === "band") svgEl("path", { d: area(s.pts, "slo", "shi"), fill: color, "fill-opacity": 0.25, stroke: "none", class: "std" }, plot);
    const p = svgEl("path", { d: line(s.pts), fill: "none", stroke: color, "stroke-width": s.baseline ? 2.8 : 1.5, class: "line" + (s.baseline ? " baseline" : "") }, plot);
    p.dataset.run = s.id || s.name;
    drawn++;
  }
  svg.dataset.drawn = String(drawn);
  svg.dataset.buckets = String(nb);
  const legend = $("#legend");
  legend.innerHTML = "";
  for (const s of series) {
    const item = document.createElement("span");
    const sw = document.createElement("span"); sw.className = "swatch"; sw.style.background = s.baseline ? "#111" : s.color;
    item.appendChild(sw);
    item.appendChild(document.createTextNode(s.name + (s.baseline ? " (baseline)" : "")));
    legend.appendChild(item);
  }
  if (state.view === "band") legend.appendChild(document.createTextNode("line: mean · dark: mean ± std · light: min–max"));
  else legend.appendChild(document.createTextNode("line: bucket mean · shaded: bucket min–max (exact)"));
}

// ---- zoom by dragging ----
(function () {
  const svg = $("#chart");
  let start = null, rect = null;
  const px = e => e.clientX - svg.getBoundingClientRect().left;
  svg.addEventListener("mousedown", e => { start = px(e); rect = svgEl("rect", { x: start, y: M.t, width: 0, height: Math.max(0, svg.clientHeight - M.t - M.b), fill: "#2d6cdf", "fill-opacity": 0.12 }, svg); });
  svg.addEventListener("mousemove", e => { if (start === null) return; const x = px(e); rect.setAttribute("x", Math.min(start, x)); rect.setAttribute("width", Math.abs(x - start)); });
  window.addEventListener("mouseup", e => {
    if (start === null) return;
    const a = Math.min(start, px(e)), b = Math.max(start, px(e));
    start = null; if (rect) rect.remove();
    if (b - a < 5 || !state.scale) return;
    const { x0, x1, pw } = state.scale;
    const v = p => x0 + (Math.min(Math.max(p, M.l), M.l + pw) - M.l) / pw * (x1 - x0);
    state.zoom = [Math.floor(v(a)), Math.ceil(v(b))];
    if (state.zoom[1] <= state.zoom[0]) state.zoom[1] = state.zoom[0] + 1;
    draw();
  });
  svg.addEventListener("dblclick", () => { state.zoom = null; draw(); });
})();

$("#apply").onclick = () => loadRuns();
$("#where").addEventListener("keydown", e => { if (e.key === "Enter") loadRuns(); });
$("#metric").onchange = e => { state.metric = e.target.value; state.zoom = null; draw(); };
$("#xaxis").onchange = e => { state.x = e.target.value; state.zoom = null; draw(); };
$("#view").onchange = e => { state.view = e.target.value; state.zoom = null; draw(); };
$("#group").onchange = e => { state.group = e.target.value; draw(); };
$("#resetzoom").onclick = () => { state.zoom = null; draw(); };
$("#savetoken").onclick = () => { state.token = $("#token").value.trim(); localStorage.setItem("strataToken", state.token); $("#tokenbox").hidden = true; loadRuns(); };
window.addEventListener("resize", () => draw());

// URL parameters preset the view: ?where=...&metric=...&x=relative&view=band&group=lr&runs=name1,name2&baseline=name
(function () {
  const p = new URLSearchParams(location.search);
  if (p.get("where")) $("#where").value = p.get("where");
  if (p.get("metric")) state.metric = p.get("metric");
  if (p.get("x")) { state.x = p.get("x"); $("#xaxis").value = state.x; }
  if (p.get("view")) { state.view = p.get("view"); $("#view").value = state.view; }
  if (p.get("group")) state.group = p.get("group");
  const wanted = (p.get("runs") || "").split(",").filter(Boolean);
  const base = p.get("baseline");
  const orig = loadRuns;
  if (wanted.length || base) {
    state.touched = true;
    const pick = () => {
      state.selected = state.runs.filter(r => wanted.includes(r.name) || wanted.includes(r.id) || r.name === base || r.id === base).map(r => r.id);
      const b = state.runs.find(r => r.name === base || r.id === base); if (b) state.baseline = b.id;
    };
    (async () => { await orig(); pick(); renderTable(); fillSelects(); draw(); })();
  } else orig();
})();
