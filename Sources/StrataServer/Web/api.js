"use strict";
// The server's JSON API (docs/API.md) and the number formats of the page.
const $ = (s, root) => (root || document).querySelector(s);
const $$ = (s, root) => [...(root || document).querySelectorAll(s)];
const enc = encodeURIComponent;

function el(tag, attrs, parent, text) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) {
    if (k === "class") e.className = attrs[k];
    else if (k.startsWith("on")) e[k] = attrs[k];
    else e.setAttribute(k, attrs[k]);
  }
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

const Api = {
  token: localStorage.getItem("strataToken") || "",
  async get(path) {
    const headers = this.token ? { Authorization: "Bearer " + this.token } : {};
    const r = await fetch(path, { headers, cache: "no-store" });
    let body = null;
    try { body = parseJSON(await r.text()); } catch (e) { body = null; }
    if (!r.ok) {
      if (r.status === 401) document.dispatchEvent(new Event("strata-needs-token"));
      const err = new Error(body && body.error ? body.error.message : ("HTTP " + r.status));
      err.status = r.status;
      throw err;
    }
    return body;
  },
  // The runs list; with the `cursor` of an earlier answer, {unchanged: true} when nothing changed.
  runs(where, sort, cursor) {
    let p = "/api/runs?limit=100000";
    if (where) p += "&where=" + enc(where);
    if (sort) p += "&sort=" + enc(sort);
    if (cursor) p += "&cursor=" + enc(cursor);
    return this.get(p);
  },
  run(id) { return this.get("/api/runs/" + enc(id)); },
  // The exact bucketed curve: `q` = {run, metric, labels, x, buckets, from, to, since}.
  curve(q) { return this.get(Api.curvePath(q)); },
  curvePath(q) { return `/api/curve?run=${enc(q.run)}&` + this.curveQuery(q); },
  // The curves of several runs on one grid, in requests of up to 100 runs: [{id, o} or {id, error}].
  async curves(ids, q) {
    const parts = [];
    for (let i = 0; i < ids.length; i += 100) parts.push(ids.slice(i, i + 100));
    const answers = await Promise.all(parts.map(part => this.get(`/api/curves?runs=${part.map(enc).join(",")}&` + this.curveQuery(q))
      .then(o => o.curves.map((c, k) => c.error ? { id: part[k], error: c.error.message } : { id: part[k], o: c }),
        e => part.map(id => ({ id, error: e.message })))));
    return answers.flat();
  },
  curveQuery(q) {
    let p = `metric=${enc(q.metric)}&x=${q.x}&buckets=${q.buckets}`;
    if (q.labels && Object.keys(q.labels).length) p += "&labels=" + enc(Object.keys(q.labels).sort().map(k => k + "=" + q.labels[k]).join(","));
    if (q.from !== undefined && q.from !== null) p += `&from=${q.from}&to=${q.to}`;
    if (q.since !== undefined && q.since !== null) p += `&since=${q.since}`;
    return p;
  },
  // Every series of a run (with context labels), with summaries.
  series(id) { return this.get("/api/runs/" + enc(id) + "/series"); },
};

// A JSON value of the API as a number: NaN and ±Infinity arrive as strings.
function num(v) {
  if (typeof v === "number") return v;
  if (v === "NaN" || v == null) return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return Number(v);
}

// The exact value as the API sent it (shortest text that reads back to the same double).
function exact(v) {
  v = num(v);
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "−Inf";
  return plain(v);
}

// A number as people write it: 3e-4, 0.01, 1200, 2.5e6 (shortest round-trip digits).
function plain(v) {
  if (!isFinite(v)) return exact(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e6) return String(v);
  return v.toExponential().replace("e+", "e");
}

// A number rounded to `digits` significant digits for display (tables, summaries).
function short(v, digits) {
  v = num(v);
  if (!isFinite(v)) return exact(v);
  return plain(Number(v.toPrecision(digits || 4)));
}

// The API's JSON, except that an integer a double cannot hold exactly (a param beyond 2^53) keeps
// its digits as text instead of being rounded (where the browser gives the reviver the source).
function parseJSON(text) {
  return JSON.parse(text, (k, v, ctx) =>
    typeof v === "number" && Number.isInteger(v) && !Number.isSafeInteger(v) && ctx && typeof ctx.source === "string" && /^-?[0-9]+$/.test(ctx.source) ? ctx.source : v);
}

// A param value as written: numbers plainly, strings as they are, `null` as null (an absent param
// is ""), lists and objects in JSON with their strings quoted.
function paramText(v) {
  if (v === undefined) return "";
  if (v === null) return "null";
  if (typeof v === "number") return plain(v);
  if (typeof v === "boolean" || typeof v === "string") return String(v);
  const inner = x => typeof x === "string" ? JSON.stringify(x) : paramText(x);
  if (Array.isArray(v)) return "[" + v.map(inner).join(", ") + "]";
  return "{" + Object.keys(v).sort().map(k => JSON.stringify(k) + ": " + inner(v[k])).join(", ") + "}";
}

function fmtDuration(ms) {
  if (!(ms >= 0)) return "";
  const s = ms / 1000;
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + "s";
  const m = Math.floor(s / 60), h = Math.floor(m / 60), d = Math.floor(h / 24);
  if (d > 0) return d + "d " + (h % 24) + "h";
  if (h > 0) return h + "h " + (m % 60) + "m";
  return m + "m " + Math.floor(s % 60) + "s";
}

function fmtDate(ms) {
  const d = new Date(ms);
  if (isNaN(d)) return "";
  return d.toISOString().replace("T", " ").slice(0, 19);
}
