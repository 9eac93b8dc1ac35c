"use strict";
// The page's wiring: loading runs, selection and baseline, the toolbar and grouping, the run page,
// live updates.
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
    Compare.render();
    URLState.save();
    if (S.page === "workspace") Workspace.render();
    return true;
  },
  setRuns(o) {
    S.runs = o.runs; S.total = o.total;
    this.runsCursor = o.cursor;
    S.byId = new Map(S.runs.map(r => [r.id, r]));
    const text = JSON.stringify(o);
    if (text !== this.lastRunsText) this.runsStamp = (this.runsStamp || 0) + 1;
    this.lastRunsText = text;
  },
  toggle(id, on) {
    S.selected = S.selected.filter(x => x !== id);
    if (on) { S.selected.push(id); colorOf(id); }
    if (!on && S.baseline === id) S.baseline = null;
    Table.render(); URLState.save(); Workspace.render(); Compare.render();
  },
  // Replaces the selection (the sweeps scatter's brush).
  select(ids) {
    S.selected = ids.slice();
    S.selected.forEach(colorOf);
    if (S.baseline && !S.selected.includes(S.baseline)) S.baseline = null;
    Table.render(); URLState.save(); Workspace.render(); Sweeps.render(); Compare.render();
  },
  setBaseline(id) {
    S.baseline = id;
    if (id && !S.selected.includes(id)) { S.selected.push(id); colorOf(id); }
    Table.render(); URLState.save(); Workspace.render(); Compare.render();
  },
  // The group-by chooser: params of the runs shown, and the context labels of their series
  // (looked up when the chooser opens). S.group is a comma-separated list of keys: a param name,
  // or `label:NAME` for a context label.
  fillGroups() {
    const box = $("#groupchooser .list");
    const keys = groupKeys();
    $("#groupchooser summary").textContent = "group: " + (keys.length ? keys.map(k => k.replace(/^label:/, "")).join(" × ") + " (mean ± std, min–max)" : "none");
    const params = new Set(), labels = new Set(this.knownLabels || []);
    for (const r of S.runs) Object.keys(r.params).forEach(k => params.add(k));
    for (const k of keys) if (k.startsWith("label:")) labels.add(k.slice(6)); else params.add(k);
    if (!box.firstChild) {
      el("div", { class: "cgroup" }, box, "params");
      el("div", { class: "gparams" }, box);
      el("div", { class: "cgroup" }, box, "context labels of series");
      el("div", { class: "glabels" }, box);
    }
    const add = (part, key, text) => {
      const l = el("label", {}, part);
      const cb = el("input", { type: "checkbox", "data-group": key }, l);
      cb.onchange = () => {
        const now = groupKeys().filter(k => k !== key);
        if (cb.checked) now.push(key);
        S.group = now.join(",");
        this.syncControls(); URLState.save(); Workspace.render();
      };
      l.appendChild(document.createTextNode(" " + text));
    };
    // Each part is rebuilt only when its keys change (the labels arrive after the chooser
    // opens): a list rebuilt under the pointer between mouse down and up loses the click.
    const fill = (part, list, hint) => {
      const sig = JSON.stringify([list, hint]);
      if (part.dataset.sig === sig) return;
      part.dataset.sig = sig;
      part.innerHTML = "";
      if (hint) el("div", { class: "hint" }, part, hint);
      for (const [key, text] of list) add(part, key, text);
    };
    fill(box.querySelector(".gparams"), [...params].sort().map(p => [p, p]), "");
    fill(box.querySelector(".glabels"), [...labels].sort().map(k => ["label:" + k, k]), labels.size ? "" : (this.knownLabels ? "none" : "…"));
    for (const cb of box.querySelectorAll("input[data-group]")) cb.checked = keys.includes(cb.dataset.group);
  },
  // Every series (with labels) of a run, fetched once per change of the runs list.
  seriesOf(id) {
    this.seriesCache = this.seriesCache || new Map();
    const c = this.seriesCache.get(id);
    if (c && c.stamp === this.runsStamp) return c.promise;
    const promise = Api.series(id).then(o => o.series, () => []);
    this.seriesCache.set(id, { stamp: this.runsStamp, promise });
    return promise;
  },
  async findLabels() {
    const all = await Promise.all(S.runs.map(r => this.seriesOf(r.id)));
    const ks = new Set(), ms = new Set();
    for (const list of all) for (const s of list) if (Object.keys(s.labels || {}).length) { Object.keys(s.labels).forEach(k => ks.add(k)); ms.add(s.metric); }
    this.knownLabels = [...ks];
    this.labelMetrics = ms;
    this.fillGroups();
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
    this.fillGroups();
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
      // The cursor of the list the page shows: the server answers {unchanged: true} while it holds.
      const o = await Api.runs(S.where, S.sort, this.runsCursor);
      if (o.unchanged) return;
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
    $("#groupchooser").addEventListener("toggle", () => { if ($("#groupchooser").open) this.findLabels(); });
    $("#savetoken").onclick = () => { Api.token = $("#token").value.trim(); localStorage.setItem("strataToken", Api.token); $("#tokenbox").hidden = true; this.reloadRuns(); };
    document.addEventListener("strata-needs-token", () => { $("#tokenbox").hidden = false; });
    window.addEventListener("popstate", () => { URLState.decode(location.search); this.syncControls(); this.showPage(); });
    let resizeTimer = null;
    window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(() => Workspace.refresh(), 150); });
    Sweeps.attach();
    Compare.attach();
    setInterval(() => this.poll(), 1000);
    this.reloadRuns().then(() => { if (S.page === "run") this.showPage(); else { $("#runview").hidden = true; } document.body.dataset.ready = "1"; });
  },
};
App.start();
