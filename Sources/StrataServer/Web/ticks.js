"use strict";
// Axis ticks at round values, labelled readably: step counts, dates on wall-time axes, durations on
// relative axes, powers of ten on log axes.
const Ticks = {
  niceStep(span, n) {
    const raw = span / Math.max(1, n), mag = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const f of [1, 2, 2.5, 5, 10]) if (f * mag >= raw * (1 - 1e-9)) return f * mag;
    return 10 * mag;
  },
  linear(lo, hi, n) {
    if (!(hi > lo) || !isFinite(hi - lo)) return { values: isFinite(lo) ? [lo] : [], label: v => plain(v) };
    const step = this.niceStep(hi - lo, n);
    const values = [];
    for (let k = Math.ceil(lo / step); k * step <= hi * (1 + Math.sign(hi) * 1e-12) + 1e-300; k++) {
      values.push(Math.abs(k * step) < step * 1e-9 ? 0 : k * step);
      if (values.length > 50) break;
    }
    const dec = Math.max(0, -Math.floor(Math.log10(step) + 1e-9)) + (String(step / Math.pow(10, Math.floor(Math.log10(step)))).includes(".") ? 1 : 0);
    return { values, label: v => plain(Number(v.toFixed(Math.min(20, dec)))) };
  },
  steps(lo, hi, n) {
    const t = this.linear(lo, hi, n);
    t.values = t.values.filter(v => Number.isInteger(v) || Math.abs(v) > 1e15);
    t.label = v => Math.abs(v) >= 1e6 ? plain(Number(v.toPrecision(4))) : Math.abs(v) >= 1e4 && v % 1000 === 0 ? (v / 1000) + "k" : String(v);
    return t;
  },
  log(lo, hi) {
    const values = [];
    if (!(lo > 0) || !(hi > lo)) return { values, label: v => plain(v) };
    const a = Math.floor(Math.log10(lo)), b = Math.ceil(Math.log10(hi));
    const every = Math.max(1, Math.ceil((b - a) / 8));
    for (let e = a; e <= b; e += every) { const v = Math.pow(10, e); if (v >= lo && v <= hi) values.push(Number(v.toPrecision(1))); }
    if (values.length < 3) {
      for (let e = a; e <= b; e++) for (const f of [2, 5]) { const v = Number((f * Math.pow(10, e)).toPrecision(1)); if (v >= lo && v <= hi) values.push(v); }
      values.sort((x, y) => x - y);
    }
    return { values, label: v => plain(v) };
  },
  DAY: 86400000,
  timeSteps: [1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5, 864e5, 1728e5, 6048e5, 2592e6, 31536e6],
  timeStep(span, n) {
    const raw = span / Math.max(1, n);
    return this.timeSteps.find(s => s >= raw) || Ticks.niceStep(raw, 1);
  },
  // Wall time (UTC): HH:MM[:SS], with the date on the first tick and where the day changes.
  wall(lo, hi, n) {
    const step = this.timeStep(hi - lo, n);
    const values = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi && values.length < 60; v += step) values.push(v);
    const MON = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let lastDay = null;
    const label = v => {
      const d = new Date(v);
      const day = MON[d.getUTCMonth()] + " " + d.getUTCDate() + (step >= 2592e6 ? " " + d.getUTCFullYear() : "");
      const hm = String(d.getUTCHours()).padStart(2, "0") + ":" + String(d.getUTCMinutes()).padStart(2, "0") +
        (step < 6e4 ? ":" + String(d.getUTCSeconds()).padStart(2, "0") : "");
      if (step >= this.DAY) return day;
      const text = (lastDay !== day ? day + " " : "") + hm;
      lastDay = day;
      return text;
    };
    return { values, label, reset: () => { lastDay = null; } };
  },
  // Time since the run's first point: 0, 30s, 1m30s, 2h, 1h30m, 2d.
  relative(lo, hi, n) {
    const step = this.timeStep(hi - lo, n);
    const values = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi && values.length < 60; v += step) values.push(v);
    return { values, label: v => Ticks.duration(v) };
  },
  duration(ms) {
    if (ms === 0) return "0";
    const neg = ms < 0; ms = Math.abs(ms);
    const parts = [];
    const d = Math.floor(ms / 864e5), h = Math.floor(ms / 36e5) % 24, m = Math.floor(ms / 6e4) % 60, s = (ms % 6e4) / 1000;
    if (d) parts.push(d + "d"); if (h) parts.push(h + "h"); if (m) parts.push(m + "m");
    if (s) parts.push((Number.isInteger(s) ? s : Number(s.toFixed(1))) + "s");
    return (neg ? "−" : "") + parts.slice(0, 2).join("");
  },
};
