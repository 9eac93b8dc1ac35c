"use strict";
// The run page: status and duration, params, tags, metadata (git, host, command, seeds, …),
// lineage (parent and children), every series with its summary, its alert events, and a panel per metric.
const RunPage = {
  panels: [],
  // The lineage rows from /api/runs/{id}'s `lineage` field: the parent (with the step the run was
  // forked at), further ancestors nearest first, and the children (each with its fork step).
  lineage(r, row) {
    const lin = r.lineage || { ancestors: [], children: [] };
    const link = (l, parent, cls) => {
      const span = el("span", cls ? { class: cls } : {});
      const a = el("a", { href: "?run=" + enc(l.id) }, span, l.name || l.id);
      a.onclick = e => { e.preventDefault(); App.openRun(l.id); };
      if (l.step != null) el("span", { class: "muted" }, span, parent ? " at step " + l.step + ", forked" : " (forked at step " + l.step + ")");
      return span;
    };
    const ancestors = lin.ancestors || [];
    if (!ancestors.length && r.parent) ancestors.push({ id: r.parent, name: (runInfo(r.parent) || {}).name || r.parent, step: r.fork_step });
    if (ancestors.length) row("parent", "", link(ancestors[0], true));
    if (ancestors.length > 1) {
      const span = el("span");
      ancestors.slice(1).forEach((l, i) => { if (i) el("span", {}, span, " ← "); span.appendChild(link(l, true)); });
      row("lineage", "", span);
    }
    const kids = lin.children || [];
    if (kids.length) { const span = el("span"); for (const k of kids) span.appendChild(link(k, false, "kid")); row("children", "", span); }
  },
  async show(id) {
    const root = $("#runview");
    root.innerHTML = "";
    this.panels = [];
    let r;
    try { r = await Api.run(id); }
    catch (e) { el("p", { class: "error" }, root, e.message); return; }
    S.runId = r.id;
    const metrics = {};
    for (const s of r.series || []) if (!Object.keys(s.labels || {}).length) metrics[s.metric] = s;
    S.extra.set(r.id, Object.assign({}, r, { metrics }));
    const h = el("div", { class: "runhead" }, root);
    const back = el("a", { href: "?", class: "back" }, h, "← workspace");
    back.onclick = e => { e.preventDefault(); App.openWorkspace(); };
    el("h2", {}, h, r.name);
    el("span", { class: "status-" + r.status }, h, r.status);
    const dur = (r.ended || (r.status === "running" ? Date.now() : null)) ;
    const facts = el("table", { class: "kv" }, root);
    const row = (k, v, node) => { const tr = el("tr", {}, facts); el("th", {}, tr, k); const td = el("td", {}, tr, node ? undefined : v); if (node) td.appendChild(node); };
    row("id", r.id); row("project", r.project);
    row("created", fmtDate(r.created) + " UTC");
    row("ended", r.ended ? fmtDate(r.ended) + " UTC" : "—");
    row("duration", dur ? fmtDuration(dur - r.created) + (r.ended ? "" : " (running)") : "—");
    this.lineage(r, row);
    const tags = el("span"); for (const t of r.tags || []) el("span", { class: "tag" }, tags, t); row("tags", "", tags);
    const kv = (title, obj) => {
      const keys = Object.keys(obj || {}).sort();
      el("h3", {}, root, title);
      if (!keys.length) { el("p", { class: "muted" }, root, "none"); return; }
      const t = el("table", { class: "kv" }, root);
      for (const k of keys) { const tr = el("tr", {}, t); el("th", {}, tr, k); el("td", {}, tr, paramText(obj[k])); }
    };
    kv("Params", r.params);
    kv("Metadata", r.meta);
    const recipe = this.recipe(r);
    if (recipe) { el("h3", {}, root, "Reproduce"); el("pre", { class: "recipe" }, root, recipe); }
    el("h3", {}, root, "Series");
    const st = el("table", { class: "series" }, root);
    const hr = el("tr", {}, el("thead", {}, st));
    for (const c of ["series", "count", "NaN", "first step", "last step", "last", "min", "max"]) el("th", {}, hr, c);
    const tb = el("tbody", {}, st);
    for (const s of r.series || []) {
      const tr = el("tr", {}, tb);
      el("td", {}, tr, s.key);
      for (const v of [s.count, s.nan, s.first_step, s.last_step]) el("td", { class: "num" }, tr, String(v));
      for (const v of [s.last, s.min, s.max]) el("td", { class: "num", title: exact(v) }, tr, short(v, 6));
    }
    el("h3", {}, root, "Alerts");
    const alertBox = el("div", { class: "alerts" }, root);
    Api.get("/api/alerts/events?run=" + enc(r.id)).then(a => this.alerts(alertBox, a.events || []),
      e => el("p", { class: "error" }, alertBox, e.message));
    el("h3", {}, root, "Panels");
    const grid = el("div", { class: "grid" }, root);
    for (const m of Object.keys(metrics).sort()) {
      const p = new Panel(m, grid, () => [r.id]);
      this.panels.push(p);
    }
    for (const p of this.panels) p.load();
  },
  // The run's alert events (docs/API.md, "Alerts"), in firing order.
  alerts(box, events) {
    if (!events.length) { el("p", { class: "muted" }, box, "none"); box.dataset.loaded = "1"; return; }
    const t = el("table", { class: "series alertlist" }, box);
    const hr = el("tr", {}, el("thead", {}, t));
    for (const c of ["series", "step", "value", "condition", "fired", "delivered"]) el("th", {}, hr, c);
    const tb = el("tbody", {}, t);
    for (const e of events) {
      const tr = el("tr", { "data-id": e.id }, tb);
      el("td", {}, tr, e.series);
      el("td", { class: "num" }, tr, String(e.step));
      el("td", { class: "num", title: exact(e.value) }, tr, short(e.value, 6));
      el("td", {}, tr, e.condition || "(rule removed)");
      el("td", {}, tr, fmtDate(e.time_ms) + " UTC");
      el("td", {}, tr, e.delivered_ms == null ? "—" : fmtDate(e.delivered_ms) + " UTC");
    }
    box.dataset.loaded = "1";
  },
  // A reproduction recipe from the metadata the run carries (git commit, command).
  recipe(r) {
    const m = r.meta || {};
    const get = (...ks) => { for (const k of ks) if (m[k] !== undefined) return String(m[k]); return null; };
    const commit = get("git.commit", "git_commit", "commit"), cmd = get("command", "cmd", "argv");
    const dirty = get("git.dirty", "dirty");
    const lines = [];
    if (commit) lines.push("git checkout " + commit + (dirty === "true" ? "   # the run's tree was dirty: uncommitted changes are not in this commit" : ""));
    if (cmd) lines.push(cmd);
    return lines.join("\n");
  },
  refresh() { for (const p of this.panels) p.follow([S.runId]); },
};
