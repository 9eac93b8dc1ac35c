"use strict";
// The comparison view: each selected run against the baseline on one metric, through
// GET /api/compare (docs/API.md): baseline and candidate values, the difference with its
// confidence interval, and the verdict (regression, improvement, within noise).
const Compare = {
  seq: 0,
  attach() {
    const box = $("#comparebox");
    box.addEventListener("toggle", () => { if (box.open) this.render(); });
    for (const id of ["#cmpmetric", "#cmpstat", "#cmpseeds", "#cmptol", "#cmpfrom"]) $(id).onchange = () => this.render();
  },
  // Metrics of the baseline run, for the chooser (the one chosen stays when still there).
  fillMetrics(base) {
    const sel = $("#cmpmetric");
    const now = sel.value;
    const metrics = Object.keys((base && base.metrics) || {}).sort();
    const text = metrics.join("\n");
    if (sel.dataset.list !== text) {
      sel.innerHTML = "";
      for (const m of metrics) el("option", { value: m }, sel, m);
      sel.dataset.list = text;
      if (metrics.includes(now)) sel.value = now;
      else if (metrics.includes("train/loss")) sel.value = "train/loss";
    }
    return sel.value;
  },
  async render() {
    const box = $("#comparebox");
    if (!box || !box.open) return;
    const seq = ++this.seq;
    const tbody = $("#cmptable tbody"), note = $("#cmpnote");
    const base = S.baseline && (S.byId.get(S.baseline) || runInfo(S.baseline));
    const metric = this.fillMetrics(base);
    const others = S.selected.filter(id => id !== S.baseline);
    tbody.innerHTML = "";
    if (!base || !others.length || !metric) {
      note.textContent = !base ? "Mark a run as baseline (the base column) and select runs to compare with it."
        : !metric ? "The baseline has no metric." : "Select runs to compare with the baseline.";
      box.dataset.rows = "0";
      return;
    }
    const stat = $("#cmpstat").value, seeds = $("#cmpseeds").checked, tol = $("#cmptol").value.trim(), from = $("#cmpfrom").value.trim();
    note.textContent = (seeds ? "Each side with its seeds (runs with the same params but the seed): Welch t-interval across seeds; "
      : "") + "one run a side: block bootstrap of its points over the window. 95% intervals.";
    let q = `metric=${enc(metric)}&stat=${enc(stat)}` + (seeds ? "&seeds=1" : "");
    if (tol) q += "&tolerance=" + enc(metric + "=" + tol);
    if (from) q += "&from=" + enc(from);
    const answers = await Promise.all(others.map(id =>
      Api.get(`/api/compare?baseline=${enc(base.id)}&candidate=${enc(id)}&` + q).then(o => ({ id, o }), e => ({ id, error: e.message }))));
    if (seq !== this.seq) return;   // a newer render started
    for (const a of answers) {
      const r = S.byId.get(a.id) || runInfo(a.id) || { name: a.id };
      const tr = el("tr", { "data-id": a.id }, tbody);
      const name = el("td", {}, tr);
      el("span", { class: "swatch", style: "background:" + colorOf(a.id) }, name);
      name.appendChild(document.createTextNode(r.name));
      if (a.error) {
        tr.dataset.verdict = "error";
        el("td", { class: "error", colspan: "6" }, tr, a.error);
        continue;
      }
      const m = a.o.metrics[0];
      const rel = v => m.baseline !== 0 ? " (" + (v > 0 ? "+" : "") + (100 * v / Math.abs(num(m.baseline))).toFixed(2) + "%)" : "";
      const sign = v => (num(v) > 0 ? "+" : "") + short(num(v));
      el("td", { class: "num", "data-k": "baseline" }, tr, short(num(m.baseline)));
      el("td", { class: "num", "data-k": "candidate" }, tr, short(num(m.candidate)));
      el("td", { class: "num", "data-k": "difference" }, tr, sign(m.difference) + rel(num(m.difference)));
      el("td", { class: "num", "data-k": "interval" }, tr, "[" + sign(m.interval[0]) + ", " + sign(m.interval[1]) + "]");
      el("td", { "data-k": "sides" }, tr, m.method === "welch_t" ? `${m.baseline_runs.length} vs ${m.candidate_runs.length} seeds` : "1 vs 1 run");
      const v = el("td", { class: "verdict " + m.verdict, "data-k": "verdict", title: m.reason + "; " + (m.direction === "lower" ? "lower" : "higher") + " is better" }, tr,
        m.verdict === "within_noise" ? "within noise" : m.verdict);
      tr.dataset.verdict = m.verdict;
      v.dataset.verdict = m.verdict;
    }
    box.dataset.rows = String(answers.length);
  },
};
