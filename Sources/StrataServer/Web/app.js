"use strict";
// The page's wiring: loading runs, selection and baseline, the toolbar, the run page, live updates.
const App = {
  firstLoad: true,
  async reloadRuns() {
    $("#werror").textContent = "";
    let o;
    try { o = await Api.runs(S.where, S.sort); }
    catch (e) { $("#werror").textContent = e.message; return false; }
    this.setRuns(o);
    if (this.firstLoad && !S.selected.length && !new URLSearchParams(location.search).has("sel")) {
      S.selected = S.runs.slice(0, 5).map(r => r.id);
      S.selected.forEach(colorOf);
    }
    this.firstLoad = false;
    this.fillGroups();
    Table.render();
    Sweeps.render();
    URLState.save();
    if (S.page === "workspace") Workspace.render();
    return true;
  },
  setRuns(o) {
    S.runs = o.runs; S.total = o.total;
    S.byId = new Map(S.runs.map(r => [r.id, r]));
    this.lastRunsText = JSON.stringify(o);
  },
  toggle(id, on) {
    S.selected = S.selected.filter(x => x !== id);
    if (on) { S.selected.push(id); colorOf(id); }
    if (!on && S.baseline === id) S.baseline = null;
    Table.render(); URLState.save(); Workspace.render();
  },
  // Replaces the selection (the sweeps scatter's brush).
  select(ids) {
    S.selected = ids.slice();
    S.selected.forEach(colorOf);
    if (S.baseline && !S.selected.includes(S.baseline)) S.baseline = null;
    Table.render(); URLState.save(); Workspace.render(); Sweeps.render();
  },
  setBaseline(id) {
    S.baseline = id;
    if (id && !S.selected.includes(id)) { S.selected.push(id); colorOf(id); }
    Table.render(); URLState.save(); Workspace.render();
  },
  fillGroups() {
    const sel = $("#group");
    const params = new Set();
    for (const r of S.runs) Object.keys(r.params).forEach(k => params.add(k));
    const cur = S.group;
    sel.innerHTML = "";
    el("option", { value: "" }, sel, "no grouping (runs)");
    for (const p of [...params].sort()) el("option", { value: p }, sel, "group by " + p + " (mean ± std, min–max)");
    if (cur && !params.has(cur)) el("option", { value: cur }, sel, "group by " + cur);
    sel.value = cur;
  },
  openRun(id) {
    S.page = "run"; S.runId = id;
    history.pushState(null, "", "?" + URLState.encode());
    this.showPage();
  },
  openWorkspace() {
    S.page = "workspace"; S.runId = null;
    history.pushState(null, "", "?" + URLState.encode());
    this.showPage();
  },
  showPage() {
    const run = S.page === "run";
    $("#workspaceview").hidden = run;
    $("#runview").hidden = !run;
    if (run) RunPage.show(S.runId);
    else { $("#runview").innerHTML = ""; RunPage.panels = []; Table.render(); Workspace.render(); }
  },
  syncControls() {
    $("#where").value = S.where;
    $("#xaxis").value = S.x;
    $("#smooth").value = String(S.smooth);
    $("#smoothval").textContent = S.smooth ? S.smooth.toFixed(2) : "off";
    $("#outliers").checked = S.outliers;
    $("#search").value = S.search;
    $("#group").value = S.group;
    $("#xaxis").disabled = !!S.group;
  },

  // ---- live: while runs are running, the table and the visible panels follow within 2 s ----
  polling: false, tick: 0,
  async poll() {
    this.tick++;
    if (this.polling || document.hidden) return;
    const running = S.runs.some(r => r.status === "running") || (S.page === "run" && (runInfo(S.runId) || {}).status === "running");
    if (!running && this.tick % 5 !== 0) return;   // nothing running: look for new runs every 5 s
    this.polling = true;
    try {
      const o = await Api.runs(S.where, S.sort);
      const text = JSON.stringify(o);
      if (text === this.lastRunsText) return;
      const before = new Map(S.runs.map(r => [r.id, r]));
      const oldMetrics = new Set(); before.forEach(r => Object.keys(r.metrics).forEach(m => oldMetrics.add(m)));
      this.setRuns(o);
      // The metrics whose summaries moved for a shown run, with those runs: only their panels are
      // asked, and (on the step axis) only for the runs' last buckets (Panel.follow, `since`).
      const changed = new Map();
      let newMetric = false;
      const ids = S.page === "run" ? [S.runId] : S.group ? S.runs.map(r => r.id) : shownRuns();
      for (const id of ids) {
        const a = before.get(id), b = S.byId.get(id);
        if (!b) continue;
        for (const m of Object.keys(b.metrics)) {
          if (!oldMetrics.has(m)) newMetric = true;
          if (!a || JSON.stringify(a.metrics[m]) !== JSON.stringify(b.metrics[m])) { if (!changed.has(m)) changed.set(m, []); changed.get(m).push(id); }
        }
      }
      if (S.page === "run") { if (changed.size) RunPage.refresh(); return; }
      Table.render();
      if (newMetric || before.size !== S.runs.length) Workspace.render();
      if (changed.size) Workspace.follow(changed);
      $("#live").textContent = "live · updated " + new Date().toISOString().slice(11, 19) + " UTC";
    } catch (e) {
      $("#live").textContent = "live: " + e.message;
    } finally { this.polling = false; }
  },

  start() {
    URLState.decode(location.search);
    this.syncControls();
    $("#apply").onclick = () => { S.where = $("#where").value.trim(); this.reloadRuns(); };
    $("#where").addEventListener("keydown", e => { if (e.key === "Enter") { S.where = $("#where").value.trim(); this.reloadRuns(); } });
    $("#xaxis").onchange = e => { S.x = e.target.value; for (const m in S.panels) delete S.panels[m].xr; URLState.save(); Workspace.refresh(); };
    $("#smooth").oninput = e => { S.smooth = Number(e.target.value); $("#smoothval").textContent = S.smooth ? S.smooth.toFixed(2) : "off"; URLState.save(); Workspace.redrawAll(); for (const p of RunPage.panels) p.render(); };
    $("#outliers").onchange = e => { S.outliers = e.target.checked; URLState.save(); Workspace.redrawAll(); for (const p of RunPage.panels) p.render(); };
    $("#search").oninput = e => { S.search = e.target.value; URLState.save(); Workspace.render(); };
    $("#group").onchange = e => { S.group = e.target.value; this.syncControls(); URLState.save(); Workspace.render(); };
    $("#savetoken").onclick = () => { Api.token = $("#token").value.trim(); localStorage.setItem("strataToken", Api.token); $("#tokenbox").hidden = true; this.reloadRuns(); };
    document.addEventListener("strata-needs-token", () => { $("#tokenbox").hidden = false; });
    window.addEventListener("popstate", () => { URLState.decode(location.search); this.syncControls(); this.showPage(); });
    let resizeTimer = null;
    window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(() => Workspace.refresh(), 150); });
    Sweeps.attach();
    setInterval(() => this.poll(), 1000);
    this.reloadRuns().then(() => { if (S.page === "run") this.showPage(); else { $("#runview").hidden = true; } document.body.dataset.ready = "1"; });
  },
};
App.start();
