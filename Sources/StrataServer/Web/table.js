"use strict";
// The runs table: filter (the library's filter language, docs/FILTERS.md), server-side sorting by
// any column, a column chooser over params, tags, metadata and metric summaries, selection
// checkboxes (the selection survives filtering) and the baseline radio.
const Table = {
  // Every column the current runs offer: [key, label, value(run), sortKey].
  candidates() {
    const params = new Set(), metrics = new Set(), meta = new Set();
    for (const r of S.runs) {
      Object.keys(r.params || {}).forEach(k => params.add(k));
      Object.keys(r.metrics || {}).forEach(k => metrics.add(k));
      Object.keys(r.meta || {}).forEach(k => meta.add(k));
    }
    const cols = [];
    for (const k of [...params].sort()) cols.push({ key: "params." + k, label: k, group: "params", value: r => r.params[k], text: v => paramText(v), sort: "params." + k, num: true });
    cols.push({ key: "tags", label: "tags", group: "run", value: r => r.tags, tags: true });
    cols.push({ key: "duration", label: "duration", group: "run", value: r => r.ended ? r.ended - r.created : null, text: v => v == null ? "" : fmtDuration(v), num: true });
    cols.push({ key: "created", label: "created", group: "run", value: r => r.created, text: v => fmtDate(v), sort: "created" });
    for (const k of [...meta].sort()) cols.push({ key: "meta." + k, label: k, group: "meta", value: r => r.meta[k], text: v => paramText(v), sort: "meta." + k });
    for (const m of [...metrics].sort()) for (const agg of ["last", "min", "max", "count"])
      cols.push({ key: m + "." + agg, label: m + " " + agg, group: "metrics", value: r => r.metrics[m] ? r.metrics[m][agg] : undefined, text: v => v === undefined ? "" : agg === "count" ? String(v) : short(v, 4), sort: m + "." + agg, num: true, metric: m, agg });
    return cols;
  },
  defaultCols(cands) {
    const out = cands.filter(c => c.group === "params").slice(0, 6).map(c => c.key);
    out.push("tags");
    const ms = [...new Set(cands.filter(c => c.metric).map(c => c.metric))];
    const pick = ms.filter(m => /loss/.test(m)).concat(ms.filter(m => !/loss/.test(m))).slice(0, 4);
    for (const m of pick) out.push(m + (/loss|err/.test(m) ? ".min" : ".last"));
    return out;
  },
  render() {
    const cands = this.candidates();
    const byKey = new Map(cands.map(c => [c.key, c]));
    const chosen = (S.cols || this.defaultCols(cands)).filter(k => byKey.has(k)).map(k => byKey.get(k));
    this.renderChooser(cands, new Set(chosen.map(c => c.key)));
    const thead = $("#runs thead"), tbody = $("#runs tbody");
    thead.innerHTML = ""; tbody.innerHTML = "";
    const hr = el("tr", {}, thead);
    const head = (label, sortKey, cls) => {
      const arrow = sortKey && S.sort === sortKey ? " ▲" : sortKey && S.sort === "-" + sortKey ? " ▼" : "";
      const th = el("th", { class: (cls || "") + (sortKey ? "" : " nosort") }, hr, label + arrow);
      if (sortKey) { th.dataset.sort = sortKey; th.onclick = () => { S.sort = S.sort === sortKey ? "-" + sortKey : sortKey; App.reloadRuns(); }; }
      return th;
    };
    head("", null); el("th", { class: "nosort", title: "baseline run: the others are compared to it" }, hr, "base");
    head("name", "name"); head("status", "status");
    for (const c of chosen) head(c.label, c.sort, c.num ? "num" : "");
    for (const r of S.runs) {
      const sel = S.selected.includes(r.id);
      const tr = el("tr", { class: "run" + (sel ? " selected" : ""), "data-id": r.id }, tbody);
      const td0 = el("td", {}, tr);
      const cb = el("input", { type: "checkbox", class: "sel", title: "chart this run" }, td0);
      cb.checked = sel;
      if (sel) td0.style.boxShadow = `inset 4px 0 0 ${colorOf(r.id)}`;
      cb.onchange = () => App.toggle(r.id, cb.checked);
      const rb = el("input", { type: "radio", name: "baseline", class: "base", title: "baseline" }, el("td", {}, tr));
      rb.checked = S.baseline === r.id;
      rb.onclick = () => App.setBaseline(S.baseline === r.id ? null : r.id);
      const a = el("a", { href: "?run=" + enc(r.id), class: "runlink" }, el("td", {}, tr), r.name);
      a.onclick = e => { if (e.ctrlKey || e.metaKey) return; e.preventDefault(); App.openRun(r.id); };
      el("td", { class: "status-" + r.status }, tr, r.status);
      for (const c of chosen) {
        const v = c.value(r);
        const td = el("td", { class: c.num && typeof v === "number" ? "num" : "" }, tr);
        if (c.tags) { for (const t of v || []) el("span", { class: "tag" }, td, t); continue; }
        td.textContent = c.text ? c.text(v) : String(v === undefined ? "" : v);
        if (c.metric && r.metrics[c.metric]) {
          const s = r.metrics[c.metric];
          td.title = `min ${exact(s.min)} at ${s.min_step}\nmax ${exact(s.max)} at ${s.max_step}\nlast ${exact(s.last)}\ncount ${s.count}, NaN ${s.nan}, steps ${s.first_step}–${s.last_step}`;
        }
      }
    }
    const hidden = S.selected.length - shownRuns().length;
    $("#count").textContent = `${S.runs.length} of ${S.total} runs · ${S.selected.length} selected` + (hidden ? ` (${hidden} hidden by the filter)` : "");
  },
  renderChooser(cands, chosen) {
    const box = $("#colchooser .list");
    const open = $("#colchooser").open;
    if (!open) box.innerHTML = "";
    if (open && box.childElementCount) return;
    let group = null;
    for (const c of cands) {
      if (c.group !== group) { group = c.group; el("div", { class: "cgroup" }, box, group); }
      const l = el("label", {}, box);
      const cb = el("input", { type: "checkbox", "data-key": c.key }, l);
      cb.checked = chosen.has(c.key);
      cb.onchange = () => {
        const cur = $$("#colchooser input[data-key]").filter(x => x.checked).map(x => x.dataset.key);
        S.cols = cur; URLState.save(); this.render();
      };
      l.appendChild(document.createTextNode(" " + c.label));
    }
  },
};
