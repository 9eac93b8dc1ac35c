"""Fixtures: a real `strata serve` started from the built binary on a free loopback port.

The binary is $STRATA_BIN, else the first of REPO/.build-server, .build (debug, then release) that
exists. Tests that need it are skipped, with a message, when there is none.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.abspath(os.path.join(HERE, "..")))


def find_binary():
    env = os.environ.get("STRATA_BIN")
    if env:
        return env if os.access(env, os.X_OK) else None
    for build in (".build-server", ".build"):
        for conf in ("release", "debug"):
            p = os.path.join(REPO, build, conf, "strata")
            if os.access(p, os.X_OK):
                return p
    return shutil.which("strata")


@pytest.fixture(autouse=True)
def no_system_metrics_by_default(monkeypatch):
    """Runs sample system metrics only in the tests that ask for them (system_metrics=True)."""
    monkeypatch.setenv("STRATA_SYSTEM_METRICS", "0")


@pytest.fixture(scope="session")
def strata_bin():
    b = find_binary()
    if not b:
        pytest.skip("no strata binary (build with `swift build` or set STRATA_BIN)")
    return b


def export(binary, store):
    """Every point of the store, read by `strata export` in a process of its own: a list of dicts."""
    out = subprocess.run([binary, "export", "--store", store], check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, store, port=None):
        self.binary = binary
        self.store = store
        self.port = port or free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = subprocess.Popen([binary, "serve", "--store", store, "--port", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                    if r.read() == b"ok":
                        return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("strata serve exited: %s" % self.proc.stderr.read().decode())
                time.sleep(0.1)
        raise RuntimeError("strata serve did not start")

    def get(self, path, token=None):
        req = urllib.request.Request(self.url + path)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def kill(self):
        """SIGKILL: the server gets no chance to close the store."""
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def store_dir():
    d = tempfile.mkdtemp(prefix="strata-py-")
    yield os.path.join(d, "store")
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def server(strata_bin, store_dir):
    s = Server(strata_bin, store_dir)
    yield s
    s.stop()
