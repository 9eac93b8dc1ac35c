"use strict";
// The view's state, and its one serialisation: the URL (filter, sort, columns, selection, baseline,
// axes, smoothing, panels with their log scale and zoom, sections, search, grouping, sweeps' axes
// and brushes, run page).
const S = {
  page: "workspace", runId: null,
  where: "", sort: "", cols: null,
  runs: [], byId: new Map(), total: 0,
  selected: [], baseline: null,
  x: "step", smooth: 0, outliers: false, search: "", closed: new Set(), group: "",
  panels: {},          // metric -> {log, xr: [from, to], yr: [lo, hi]} (only what differs from the default)
  colors: new Map(),   // run id -> palette slot, kept for the page's life
  extra: new Map(),    // runs opened on their page that the filter does not show
  brushes: {},         // parallel coordinates: axis key ("params.lr", "summary") -> [top, bottom] fractions of its height
};

// 20 distinct colours (then golden-angle hues): a run keeps its colour in every panel.
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
  "#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354",
  "#756bb1", "#636363", "#ad494a"];
function colorOf(id) {
  if (!S.colors.has(id)) {
    const used = new Set(S.selected.filter(x => S.colors.has(x)).map(x => S.colors.get(x)));
    let slot = 0;
    while (used.has(slot)) slot++;
    S.colors.set(id, slot);
  }
  const slot = S.colors.get(id);
  return slot < PALETTE.length ? PALETTE[slot] : `hsl(${(slot * 137.508) % 360}, 65%, 42%)`;
}

function colorSlot(id) { colorOf(id); return S.colors.get(id); }

function panelState(metric) { return S.panels[metric] || (S.panels[metric] = {}); }

const URLState = {
  encode() {
    const p = new URLSearchParams();
    if (S.page === "run" && S.runId) p.set("run", S.runId);
    if (S.where) p.set("where", S.where);
    if (S.sort) p.set("sort", S.sort);
    if (S.cols) p.set("cols", S.cols.join(","));
    if (S.selected.length) {
      p.set("sel", S.selected.join(","));
      // the runs' colour slots, so that a shared view shows every run in the same colour
      if (S.selected.some((id, i) => colorSlot(id) !== i)) p.set("c", S.selected.map(colorSlot).join(","));
    }
    if (S.baseline) p.set("base", S.baseline);
    if (S.x !== "step") p.set("x", S.x);
    if (S.smooth) p.set("smooth", String(S.smooth));
    if (S.outliers) p.set("out", "1");
    if (S.search) p.set("q", S.search);
    if (S.closed.size) p.set("closed", [...S.closed].join(","));
    if (S.group) p.set("group", S.group);
    if (S.sweepX) p.set("sx", S.sweepX);
    if (S.sweepY) p.set("sy", S.sweepY);
    const brushes = Object.keys(S.brushes).sort().map(k => enc(k) + "~" + S.brushes[k].map(v => v.toFixed(4)).join("~"));
    if (brushes.length) p.set("pc", brushes.join(";"));
    const panels = [];
    for (const m of Object.keys(S.panels).sort()) {
      const ps = S.panels[m];
      const parts = [ps.log ? "log" : "", ps.xr ? ps.xr.join(":") : "", ps.yr ? ps.yr.join(":") : ""];
      if (parts.some(Boolean)) panels.push(enc(m) + "~" + parts.join("~"));
    }
    if (panels.length) p.set("p", panels.join(";"));
    return p.toString();
  },
  decode(search) {
    const p = new URLSearchParams(search);
    S.page = p.get("run") ? "run" : "workspace";
    S.runId = p.get("run");
    S.where = p.get("where") || "";
    S.sort = p.get("sort") || "";
    S.cols = p.has("cols") ? p.get("cols").split(",").filter(Boolean) : null;
    S.selected = (p.get("sel") || "").split(",").filter(Boolean);
    const slots = (p.get("c") || "").split(",").map(Number);
    S.selected.forEach((id, i) => { if (Number.isInteger(slots[i]) && slots[i] >= 0 && p.get("c") && ![...S.colors.values()].includes(slots[i])) S.colors.set(id, slots[i]); });
    S.selected.forEach(colorOf);
    S.baseline = p.get("base") || null;
    if (S.baseline && !S.selected.includes(S.baseline)) { S.selected.push(S.baseline); colorOf(S.baseline); }   // the baseline is always charted
    S.x = ["step", "time", "relative"].includes(p.get("x")) ? p.get("x") : "step";
    S.smooth = Math.min(0.999, Math.max(0, Number(p.get("smooth")) || 0));
    S.outliers = p.get("out") === "1";
    S.search = p.get("q") || "";
    S.closed = new Set((p.get("closed") || "").split(",").filter(Boolean));
    S.group = p.get("group") || "";
    S.sweepX = p.get("sx") || ""; S.sweepY = p.get("sy") || "";
    S.brushes = {};
    for (const item of (p.get("pc") || "").split(";").filter(Boolean)) {
      const [k, lo, hi] = item.split("~");
      if (Number(lo) >= 0 && Number(hi) <= 1 && Number(lo) <= Number(hi)) S.brushes[decodeURIComponent(k)] = [Number(lo), Number(hi)];
    }
    S.panels = {};
    for (const item of (p.get("p") || "").split(";").filter(Boolean)) {
      const [m, log, xr, yr] = item.split("~");
      const range = t => { if (!t) return undefined; const r = t.split(":").map(Number); return r.length === 2 && r.every(isFinite) && r[1] > r[0] ? r : undefined; };
      const ps = { log: log === "log", xr: range(xr), yr: range(yr) };
      S.panels[decodeURIComponent(m)] = ps;
    }
  },
  timer: null,
  // Writes the state into the address bar (replacing the entry: no history spam).
  save() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const q = this.encode();
      const url = location.pathname + (q ? "?" + q : "");
      if (url !== location.pathname + location.search) history.replaceState(null, "", url);
    }, 50);
  },
  saveNow() { clearTimeout(this.timer); const q = this.encode(); history.replaceState(null, "", location.pathname + (q ? "?" + q : "")); },
};

// The grouping keys: param names, or `label:NAME` for a context label of the series.
function groupKeys() { return (S.group || "").split(",").filter(Boolean); }

// The selected runs the current filter shows (the selection itself survives filtering).
function shownRuns() { return S.selected.filter(id => S.byId.has(id)); }
// A run's row (as /api/runs gives it) whether or not the filter shows it.
function runInfo(id) { return S.byId.get(id) || S.extra.get(id); }
