#!/usr/bin/env python3
"""HTTP fuzz pass: schemathesis against a live `strata serve`, checked against docs/openapi.yaml.

For each mode (`open`: a store without tokens; `tokens`: a store with tokens, requests carrying a
write token; `manage`: only the delete, restore and fork routes, on a store without tokens) this
  1. validates docs/openapi.yaml (openapi-spec-validator),
  2. starts the built `strata serve` on 127.0.0.1, port 0, on a fresh store and logs a few runs,
  3. runs schemathesis with a fixed seed and a bounded number of examples per operation under a
     hard timeout, checking: no 5xx, status codes, content types, headers and bodies conform to
     the document, schema-violating requests are refused (and, with tokens, that a request
     without the token is refused),
  4. checks the server is still alive and answers /health, that every point it acknowledged is
     stored (sum of `points` of the 200 answers to POST /api/ingest, a retried Idempotency-Key
     counted once, against the counts of every series), then stops it with SIGTERM (it must exit
     0) and runs `strata verify` on the store. In `manage` mode step 4 checks instead that the
     listed runs are the seeded runs and the forks made, minus those deleted (and not restored),
     each seeded run with exactly its own points and each fork with none of its own.

It ends with one line of counts:
  http-fuzz: N requests tried, F check failures, X 5xx, C crashes (server died), H hangs (timeouts), L points lost
and exits 1 when any of them is non-zero (or the store does not verify), 0 otherwise.

Usage: fuzz.py [--examples N] [--seed S] [--modes open,tokens,manage] [--timeout SECONDS] [--keep DIR] [--json FILE]
The binary is $STRATA_BIN, else REPO/.build/debug/strata. Run with the Python of the test venv
(scripts/setup.sh); scripts/http-fuzz.sh does that.
"""
import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml
from openapi_spec_validator import validate as validate_spec

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
SPEC = os.path.join(REPO, "docs", "openapi.yaml")
sys.path.insert(0, os.path.join(REPO, "Tests", "python"))
import serve  # noqa: E402  (the one way the Python tests start and stop `strata serve`)

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
]


def log(msg):
    print(msg, flush=True)


def binary():
    try:
        return serve.binary()
    except FileNotFoundError as e:
        sys.exit("http-fuzz: %s" % e)


class Server(serve.Serve):
    """`strata serve --port 0` on loopback (Tests/python/serve.py), with the requests of this pass."""

    def __init__(self, strata, store, logpath):
        super().__init__(store, logpath, strata)

    def alive(self):
        if self.proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=10) as r:
                return r.status == 200 and r.read() == b"ok"
        except OSError:
            return False

    def request(self, method, path, token=None, body=None):
        req = urllib.request.Request(self.url + path, data=body, method=method)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        if body is not None:
            req.add_header("Content-Type", "application/json")  # writes must say what they send
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())


INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


def seed_batch(extremes):
    """The runs the document's examples name (r1: train/loss, val/loss, lr, loss{rank=3}), and r2.
    With `extremes`, r1's train/loss also gets points at the ends of the Int64 range of steps and
    times, so every query of the examples meets them."""
    recs = [{"run": "r1", "params": {"lr": 0.0003, "model": "base"}, "tags": ["baseline"], "meta": {"purpose": "fuzz"}},
            {"run": "r2", "params": {"lr": 0.001, "model": "base"}, "tags": ["sweep"]}]
    for run, k in (("r1", 1.0), ("r2", 1.5)):
        for s in range(200):
            recs.append({"run": run, "step": s, "time": 1760000000000 + 100 * s,
                         "metrics": {"train/loss": k / (s + 1), "lr": 0.0003}})
        recs.append({"run": run, "metric": "val/loss", "steps": list(range(0, 200, 20)),
                     "values": [k / (s + 2) for s in range(0, 200, 20)]})
        recs.append({"run": run, "step": 10, "metrics": {"loss": 0.5, "nan": "NaN"}, "labels": {"rank": "3"}})
    if extremes:
        recs.append({"run": "r1", "metric": "train/loss", "steps": [INT64_MIN, -1, INT64_MAX, INT64_MAX],
                     "values": [3.0, 2.0, 1.0, "NaN"], "times": [INT64_MIN, 0, INT64_MAX, INT64_MIN]})
    return json.dumps(recs).encode()


def spec_for(mode, workdir):
    """The document as the server of `mode` must answer it: an open store needs no token."""
    with open(SPEC) as f:
        doc = yaml.safe_load(f)
    if mode in ("open", "manage"):
        doc["security"] = []
    manage = ("/api/runs/{run}/delete", "/api/runs/{run}/fork", "/api/runs/{run}/restore")
    if mode == "manage":
        # Only run management: its own accounting (manage_check) follows deletes, restores and forks.
        doc["paths"] = {p: v for p, v in doc["paths"].items() if p in manage}
    else:
        # Deleting a run hides its acknowledged points and a fork reads its parent's through its
        # lineage, which the points-lost and points-added checks cannot tell from a loss or a
        # duplicate: the "manage" mode fuzzes those routes with an accounting of its own.
        doc["paths"].pop("/api/runs/{run}/delete", None)
        doc["paths"].pop("/api/runs/{run}/fork", None)
    path = os.path.join(workdir, "openapi-%s.yaml" % mode)
    with open(path, "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    return path


def read_events(path):
    """Check results and errors of a schemathesis NDJSON report."""
    checks, errors = [], []
    with open(path) as f:
        for line in f:
            e = json.loads(line)
            if "ScenarioFinished" in e:
                rec = e["ScenarioFinished"].get("recorder") or {}
                label = rec.get("label", "?")
                for results in (rec.get("checks") or {}).values():
                    for c in results:
                        checks.append((label, c.get("name"), c.get("status")))
            elif "NonFatalError" in e:
                v = e["NonFatalError"]
                errors.append((v.get("label", "?"), (v.get("value") or {}).get("type", "?"),
                               (v.get("value") or {}).get("message", "")))
    return checks, errors


def read_calls(path):
    """Every request schemathesis sent, as logged by fuzz_hooks.py."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def acknowledged_points(calls):
    """Points the server acknowledged, as (at least, at most): the sum of `points` of the 200
    answers to POST /api/ingest; for the lower bound a batch repeating an earlier Idempotency-Key
    is left out (a server that honours the key applies it once, one that ignores it twice). Every
    acknowledged point is stored when the store holds at least the lower bound, and nothing
    unacknowledged was stored when it holds at most the upper bound."""
    least, most, keys = 0, 0, set()
    for c in calls:
        if "points" not in c:
            continue
        n = c["points"] or 0
        most += n
        if c.get("key") is not None:
            if c["key"] in keys:
                continue
            keys.add(c["key"])
        least += n
    return least, most


def stored_points(server, token):
    runs = server.request("GET", "/api/runs?limit=1000000", token)["runs"]
    total = 0
    for r in runs:
        for s in server.request("GET", "/api/runs/%s/series" % r["id"], token)["series"]:
            total += s["count"]
    return total, len(runs)


def own_points(server, token):
    """{run id: points of its own series (lineage=own)} of every listed (not deleted) run."""
    runs = server.request("GET", "/api/runs?limit=1000000", token)["runs"]
    return {r["id"]: sum(s["count"] for s in server.request("GET", "/api/runs/%s/series?lineage=own" % r["id"], token)["series"])
            for r in runs}


def manage_check(before, after, calls):
    """The store after fuzzing the delete, restore and fork routes, against the successful calls in
    order: the listed runs are the seeded ones and the forks made, minus those deleted and not
    restored since; each seeded run still listed has exactly its own points from before, a fork
    none of its own. Returns a list of problems (empty when they agree)."""
    deleted, forks = set(), set()
    for c in calls:
        run, action = c.get("run"), c.get("action")
        if run is None or action is None:
            continue
        if action == "delete":
            deleted.add(run)
        elif action == "restore":
            deleted.discard(run)
        elif action == "fork":
            forks.add(run)
    want = (set(before) | forks) - deleted
    bad = []
    if set(after) != want:
        bad.append("listed runs %s, expected %s (deleted %s, forks %s)" % (sorted(after), sorted(want), sorted(deleted), sorted(forks)))
    for run in set(after) & want:
        expect = before.get(run, 0)
        if after[run] != expect:
            bad.append("run %s holds %d points of its own, expected %d" % (run, after[run], expect))
    return bad


def run_mode(mode, args, strata, workdir):
    store = os.path.join(workdir, "store-" + mode)
    report = os.path.join(workdir, "report-" + mode)
    os.makedirs(report)
    token = None
    if mode == "tokens":
        out = subprocess.run([strata, "token", "create", "--scope", "write", "--name", "fuzz", "--store", store],
                             capture_output=True, text=True, check=True)
        token = out.stdout.strip()
    server = Server(strata, store, os.path.join(workdir, "serve-%s.log" % mode))
    res = {"mode": mode, "requests": 0, "failures": 0, "unique": [], "5xx": 0, "crash": 0, "hangs": 0,
           "lost": 0, "extra": 0, "errors": [], "notes": []}
    try:
        seeded = server.request("POST", "/api/ingest", token, seed_batch(args.extremes))["points"]
        before = own_points(server, token) if mode == "manage" else None
        cmd = [os.path.join(os.path.dirname(sys.executable), "st"), "run", spec_for(mode, workdir),
               "--url", server.url, "--checks", ",".join(CHECKS + (["ignored_auth"] if token else [])),
               "--max-examples", str(args.examples), "--seed", str(args.seed), "--workers", "1",
               "--request-timeout", str(args.request_timeout), "--generation-database", "none",
               "--suppress-health-check", "all", "--report", "ndjson", "--report-dir", report,
               "--report-ndjson-path", os.path.join(report, "events.ndjson"), "--output-sanitize", "false",
               "--no-color"]
        if token:
            cmd += ["--header", "Authorization: Bearer " + token]
        outpath = os.path.join(report, "schemathesis.txt")
        log("http-fuzz [%s]: schemathesis on %s (seed %d, %d examples per operation)" % (mode, server.url, args.seed, args.examples))
        started = time.time()
        calls_log = os.path.join(report, "calls.jsonl")
        env = dict(os.environ, NO_COLOR="1", SCHEMATHESIS_HOOKS="fuzz_hooks", STRATA_FUZZ_LOG=calls_log,
                   PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
        with open(outpath, "w") as out:
            try:
                # In the report directory: schemathesis keeps a cache (.schemathesis/) in its working directory.
                st = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, timeout=args.timeout, env=env, cwd=report)
                st_rc = st.returncode
            except subprocess.TimeoutExpired:
                st_rc = None
                res["hangs"] += 1
                res["notes"].append("schemathesis did not finish within %d s (killed)" % args.timeout)
        log("http-fuzz [%s]: schemathesis exited %s after %.0f s" % (mode, st_rc, time.time() - started))
        events = os.path.join(report, "events.ndjson")
        checks, errors = read_events(events) if os.path.exists(events) else ([], [])
        calls = read_calls(calls_log)
        res["requests"] = len(calls)
        res["5xx"] = sum(1 for c in calls if (c["status"] or 0) >= 500)
        no_answer = sum(1 for c in calls if c["status"] is None)
        failed = [(label, name) for label, name, status in checks if status == "failure"]
        res["failures"] = len(failed)
        res["unique"] = sorted(set(failed))
        for label, kind, message in errors:
            if "timed out" in message.lower() or "timeout" in kind.lower():
                continue  # counted from the call log (a request without an answer)
            res["errors"].append("%s: %s: %s" % (label, kind, message.splitlines()[0] if message else ""))
        if st_rc not in (0, None) and not failed and not errors:
            res["errors"].append("schemathesis exited %s (see %s)" % (st_rc, outpath))

        if not server.alive():
            res["crash"] = 1
            time.sleep(1)  # the runtime's crash report comes first
            tail = server.log_tail(200000)
            fatal = [l for l in tail.splitlines() if "Fatal error" in l or "Program crashed" in l]
            res["notes"].append("the server died: " + (" / ".join(fatal[:2]) if fatal else tail[-600:]))
        elif mode == "manage":
            res["hangs"] += no_answer
            after = own_points(server, token)
            for problem in manage_check(before, after, calls):
                res["errors"].append(problem)
            made = sum(1 for c in calls if c.get("action"))
            res["notes"].append("%d deletes, restores and forks succeeded; %d runs listed, each with the points it should hold"
                                % (made, len(after)))
        else:
            res["hangs"] += no_answer
            least, most = acknowledged_points(calls)
            stored, runs = stored_points(server, token)
            res["lost"] = max(0, seeded + least - stored)
            res["extra"] = max(0, stored - seeded - most)
            acked = "%d" % (seeded + most) if least == most else "%d to %d" % (seeded + least, seeded + most)
            res["notes"].append("%s points acknowledged, %d stored in %d runs" % (acked, stored, runs))
    finally:
        rc = server.stop()
    if not res["crash"]:
        if rc != 0:
            res["errors"].append("strata serve exited %s on SIGTERM: %s" % (rc, server.log_tail(600)))
        v = subprocess.run([strata, "verify", "--store", store], capture_output=True, text=True)
        if v.returncode != 0:
            res["errors"].append("strata verify failed: " + (v.stderr or v.stdout).strip()[-600:])
        else:
            res["notes"].append("store verified")
    if res["failures"] or res["errors"] or res["5xx"] or res["crash"]:
        with open(os.path.join(report, "schemathesis.txt")) as f:
            text = f.read()
        i = text.find("=== FAILURES")
        j = text.find("=== ERRORS")
        start = min([k for k in (i, j) if k >= 0], default=max(0, len(text) - 6000))
        log(text[start:start + 12000])
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=40,
                    help="schemathesis --max-examples: most generated cases per operation (default 40)")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("STRATA_FUZZ_SEED", "8")))
    ap.add_argument("--modes", default="open,tokens,manage")
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("STRATA_FUZZ_TIMEOUT", "150")),
                    help="hard limit in seconds for schemathesis in each mode (default 150)")
    ap.add_argument("--request-timeout", type=float, default=10.0, help="seconds before a request counts as a hang")
    ap.add_argument("--keep", help="keep stores and reports in this directory")
    ap.add_argument("--extremes", action=argparse.BooleanOptionalAction, default=os.environ.get("STRATA_FUZZ_EXTREMES", "1") != "0",
                    help="seed r1's train/loss with steps and times at Int64.min and Int64.max (default; --no-extremes or $STRATA_FUZZ_EXTREMES=0 to leave them out)")
    ap.add_argument("--json", help="also write the counts of each mode to this file (JSON)")
    args = ap.parse_args()

    strata = binary()
    with open(SPEC) as f:
        validate_spec(yaml.safe_load(f))
    log("http-fuzz: docs/openapi.yaml is a valid OpenAPI document")

    workdir = os.path.abspath(args.keep) if args.keep else tempfile.mkdtemp(prefix="strata-http-fuzz-")
    if args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
        os.makedirs(workdir)
    results = []
    try:
        for mode in args.modes.split(","):
            results.append(run_mode(mode, args, strata, workdir))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    bad = False
    for r in results:
        log("http-fuzz [%s]: %d requests, %d check failures, %d 5xx, %s, %d hangs, %d points lost%s; %s" % (
            r["mode"], r["requests"], r["failures"], r["5xx"], "server died" if r["crash"] else "server alive",
            r["hangs"], r["lost"], (", %d unacknowledged points stored" % r["extra"]) if r["extra"] else "",
            "; ".join(r["notes"])))
        for label, name in r["unique"]:
            log("  failure: %s: %s" % (label, name))
        for e in r["errors"]:
            log("  error: " + e)
        bad = bad or bool(r["failures"] or r["5xx"] or r["crash"] or r["hangs"] or r["lost"] or r["extra"] or r["errors"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seed": args.seed, "examples": args.examples, "modes": results}, f, indent=1)
    tot = lambda k: sum(r[k] for r in results)
    log("http-fuzz: %d requests tried, %d check failures, %d 5xx, %d crashes (server died), %d hangs (timeouts), "
        "%d points lost, %d other errors -> %s" % (tot("requests"), tot("failures"), tot("5xx"), tot("crash"), tot("hangs"),
                                                   tot("lost"), sum(len(r["errors"]) for r in results), "FAIL" if bad else "ok"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
