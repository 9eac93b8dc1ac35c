#!/usr/bin/env python3
"""Hostile HTTP requests against a real `strata serve` (loopback only), for docs/SECURITY.md.

    python3 scripts/hostile_http.py [--strata .build/debug/strata]

Starts `strata serve --port 0` on a fresh store holding one run, with a write and a read token
(then again without tokens), sends every request of the corpus over a raw socket, and checks the
exact status of each, that the server is still alive, that no request hangs (10 s each), and that
the store is unchanged afterwards (`strata export` before and after). Prints the counts; exits 1
when any check failed. The same corpus runs in Swift in Tests/StrataServerTests/SecurityTests.swift.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

EVIL = b'{"run": "evil", "step": 1, "metrics": {"pwned": 1}}\n'


def exchange(port, head, body=EVIL, timeout=10.0):
    """Sends head + Content-Length + body; returns the status, or 'hang' / 'reset'."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        data = (head + "\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)).encode("latin-1") + body
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return "hang"
            except ConnectionResetError:
                break
            if not chunk:
                break
            reply += chunk
        if not reply:
            return "reset"
        return int(reply.split(b" ", 2)[1])
    finally:
        s.close()


def corpus(port, write, read):
    host = "Host: 127.0.0.1:%d" % port
    js = "Content-Type: application/json"
    cases = []
    tokens = bool(write)
    auths = [("", "no token"), ("\r\nAuthorization: Bearer " + read, "read token")] if tokens else [("", "no token")]
    w = "\r\nAuthorization: Bearer " + write if tokens else ""
    noncanonical = ["//api/ingest", "///api/ingest", "/./api/ingest", "/api/./ingest", "/api/../api/ingest", "/api//ingest",
                    "/api/ingest/", "/%61pi/ingest", "/api%2Fingest", "/api/%69ngest", "/api/ingest%00", "/.%2e/api/ingest"]
    for auth, label in auths:
        closed = 401 if auth == "" else 403
        for p in noncanonical:
            cases.append(("POST %s %s" % (p, label), "POST %s HTTP/1.1\r\n%s\r\n%s%s" % (p, host, js, auth), 400))
        for p in ["/API/ingest", "/Api/Ingest", "/api/ingest?sync=1", "/api/runs", "/"]:
            want = closed if tokens else (200 if p == "/api/ingest?sync=1" else 404)
            if not tokens and p == "/api/ingest?sync=1":
                continue  # the one accepted write of open mode: not hostile
            cases.append(("POST %s %s" % (p, label), "POST %s HTTP/1.1\r\n%s\r\n%s%s" % (p, host, js, auth), want))
        if tokens:
            cases.append(("absolute-form " + label, "POST http://x/api/ingest HTTP/1.1\r\n%s\r\n%s%s" % (host, js, auth), closed))
        for m in ["PUT", "PATCH", "DELETE", "OPTIONS"]:
            cases.append(("%s /api/ingest %s" % (m, label), "%s /api/ingest HTTP/1.1\r\n%s\r\n%s%s" % (m, host, js, auth), closed if tokens else 404))
        for p in ["//api/runs", "/api//runs", "/api/runs/", "/%61pi/runs"]:
            cases.append(("GET %s %s" % (p, label), "GET %s HTTP/1.1\r\n%s%s" % (p, host, auth), 400))
    if tokens:
        cases.append(("GET /api/runs no token", "GET /api/runs HTTP/1.1\r\n" + host, 401))
    for h in ["evil.example", "evil.example:%d" % port, "127.0.0.1:1", "localhost.evil.example:%d" % port]:
        cases.append(("Host " + h, "POST /api/ingest HTTP/1.1\r\nHost: %s\r\n%s%s" % (h, js, w), 421))
        cases.append(("GET with Host " + h, "GET /api/runs HTTP/1.1\r\nHost: %s%s" % (h, w), 421))
    for o in ["http://evil.example", "null", "https://127.0.0.1:%d" % port, "http://127.0.0.1:%d" % (port + 1)]:
        cases.append(("Origin " + o, "POST /api/ingest HTTP/1.1\r\n%s\r\nOrigin: %s\r\n%s%s" % (host, o, js, w), 403))
        cases.append(("Origin %s text/plain" % o, "POST /api/ingest HTTP/1.1\r\n%s\r\nOrigin: %s\r\nContent-Type: text/plain%s" % (host, o, w), 403))
    for ct in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]:
        cases.append(("Content-Type " + ct, "POST /api/ingest HTTP/1.1\r\n%s\r\nContent-Type: %s%s" % (host, ct, w), 415))
    return cases


def export_lines(strata, store):
    r = subprocess.run([strata, "export", "--store", store], capture_output=True, text=True)
    return sorted(r.stdout.splitlines())


def run(strata, tokens):
    tmp = tempfile.mkdtemp(prefix="strata-hostile-")
    store = os.path.join(tmp, "store")
    stats = {"requests": 0, "wrong status": 0, "crashes": 0, "hangs": 0, "data lost": 0, "store changed": 0}
    try:
        subprocess.run([strata, "log", "seed", "--create", "--step", "1", "loss=0.5", "--store", store], check=True, capture_output=True)
        write = read = ""
        if tokens:
            write = subprocess.run([strata, "token", "create", "--scope", "write", "--name", "w", "--store", store],
                                   check=True, capture_output=True, text=True).stdout.strip()
            read = subprocess.run([strata, "token", "create", "--scope", "read", "--name", "r", "--store", store],
                                  check=True, capture_output=True, text=True).stdout.strip()
        before = export_lines(strata, store)
        server = subprocess.Popen([strata, "serve", "--port", "0", "--store", store, "--max-body", "4096"],
                                  stderr=subprocess.PIPE, text=True)
        port = None
        while port is None:
            line = server.stderr.readline()
            if not line:
                raise SystemExit("strata serve did not start")
            if "strata: serving" in line:
                port = int(line.split("http://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
        cases = corpus(port, write, read)
        big = EVIL + b" " * 5000
        cases.append(("big body", "POST /api/ingest HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json%s"
                      % (port, "\r\nAuthorization: Bearer " + write if tokens else ""), 413, big))
        for case in cases:
            name, head, want = case[:3]
            body = case[3] if len(case) > 3 else EVIL
            stats["requests"] += 1
            got = exchange(port, head, body)
            if got == "hang":
                stats["hangs"] += 1
            if server.poll() is not None:
                stats["crashes"] += 1
                print("  CRASH after %s" % name)
                break
            if got != want:
                stats["wrong status"] += 1
                print("  %-50s expected %s, got %s" % (name, want, got))
        server.terminate()
        server.wait(timeout=30)
        after = export_lines(strata, store)
        stats["data lost"] = len(set(before) - set(after))
        stats["store changed"] = len(set(after) - set(before))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--strata", default=".build/debug/strata")
    args = ap.parse_args()
    bad = False
    for tokens in (True, False):
        stats = run(args.strata, tokens)
        print("%s: %s" % ("with tokens" if tokens else "without tokens", ", ".join("%s %d" % kv for kv in stats.items())))
        bad |= any(v for k, v in stats.items() if k != "requests")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
