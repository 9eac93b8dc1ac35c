"use strict";
// The workspace: one panel per metric of the shown runs, in collapsible sections by prefix
// (`train/`, `val/`, `sys/`, …), a panel search, and loading only the panels on screen.
const Workspace = {
  panels: new Map(),   // metric -> Panel

  metrics() {
    const ms = new Set();
    const ids = S.group ? S.runs.map(r => r.id) : shownRuns();
    for (const id of ids) { const r = S.byId.get(id); if (r) Object.keys(r.metrics).forEach(m => ms.add(m)); }
    // grouping by a context label: the metrics of labelled series too
    if (groupKeys().some(k => k.startsWith("label:"))) (App.labelMetrics || []).forEach(m => ms.add(m));
    let list = [...ms].sort();
    if (S.search) {
      let re = null;
      try { re = new RegExp(S.search, "i"); } catch (e) { re = null; }
      list = list.filter(m => re ? re.test(m) : m.toLowerCase().includes(S.search.toLowerCase()));
    }
    return list;
  },
  section(m) { const i = m.indexOf("/"); return i > 0 ? m.slice(0, i) : "other"; },

  render() {
    const root = $("#workspace");
    if (groupKeys().some(k => k.startsWith("label:")) && !App.labelMetrics) { App.findLabels().then(() => this.render()); }
    if (!this.watching) {
      this.watching = true;
      let t = null;
      window.addEventListener("scroll", () => { clearTimeout(t); t = setTimeout(() => this.refresh(false), 60); }, { passive: true });
    }
    const metrics = this.metrics();
    const sections = new Map();
    for (const m of metrics) { const s = this.section(m); if (!sections.has(s)) sections.set(s, []); sections.get(s).push(m); }
    // Panels no longer listed leave the page but keep their data (the search may bring them back).
    for (const [m, p] of this.panels) if (!metrics.includes(m) && p.el.isConnected) p.el.remove();
    const order = [...sections.keys()].sort((a, b) => this.rank(a) - this.rank(b) || a.localeCompare(b));
    const existing = new Map($$("details.section", root).map(d => [d.dataset.section, d]));
    for (const [name, d] of existing) if (!sections.has(name)) d.remove();
    for (const name of order) {
      let d = existing.get(name);
      if (!d) {
        d = el("details", { class: "section", "data-section": name }, root);
        const sum = el("summary", {}, d);
        el("span", { class: "sname" }, sum, name === "other" ? "other" : name + "/");
        el("span", { class: "scount muted" }, sum);
        el("div", { class: "grid" }, d);
        d.addEventListener("toggle", () => {
          if (d.open) S.closed.delete(name); else S.closed.add(name);
          URLState.save();
          this.refresh(false);
        });
      }
      d.open = !S.closed.has(name);
      root.appendChild(d);
      $(".scount", d).textContent = " " + sections.get(name).length + " panels";
      const grid = $(".grid", d);
      for (const m of sections.get(name)) {
        let p = this.panels.get(m);
        if (!p) { p = new Panel(m, grid); this.panels.set(m, p); }
        grid.appendChild(p.el);
      }
    }
    $("#empty").hidden = metrics.length > 0;
    $("#empty").textContent = S.search && !metrics.length ? "No panel matches the search." : "Select runs in the table to chart their metrics.";
    this.refresh(false);
  },
  rank(s) { return { train: 0, val: 1, eval: 2, test: 3, sys: 9, other: 8 }[s] ?? 5; },

  // The panels on screen (or within 200 px of it), measured now.
  onScreen() {
    const out = [];
    const h = window.innerHeight;
    for (const p of this.panels.values()) {
      if (!p.el.isConnected || !p.el.closest("details").open) continue;
      const b = p.el.getBoundingClientRect();
      if (b.bottom > -200 && b.top < h + 200 && b.width > 0) out.push(p);
    }
    return out;
  },

  // Draws the visible panels, fetching again those whose query changed (all with `force`, or those
  // of the metrics in `only`). Panels off screen are fetched when they scroll into view.
  refresh(force, only) {
    const seen = new Set(this.onScreen());
    for (const p of this.panels.values()) {
      const asked = force && (!only || only.has(p.metric));
      if (seen.has(p)) { if (asked || !only) p.load(asked); }
      else if (asked) p.stale = true;   // fetched again when it comes into view
    }
  },
  // New points: `changed` maps a metric to the runs whose summary of it moved. Panels on screen
  // fetch what is new (Panel.follow); those off screen are fetched when they come into view.
  follow(changed) {
    const seen = new Set(this.onScreen());
    for (const p of this.panels.values()) {
      if (!changed.has(p.metric)) continue;
      if (seen.has(p) && !S.group) p.follow(changed.get(p.metric));
      else if (seen.has(p)) p.load(true);
      else p.stale = true;
    }
  },
  redrawAll() { for (const p of this.onScreen()) p.render(); },
};
