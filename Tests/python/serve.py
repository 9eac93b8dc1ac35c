"""`strata serve` on loopback for the tests that drive it from Python (the HTTP fuzz pass in
Tests/http, the web page test in Tests/web): started on port 0 with its output in a log file, the
port read from the start line it logs, stopped with SIGTERM."""
import os
import re
import signal
import subprocess
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def binary():
    """$STRATA_BIN, else the debug build; FileNotFoundError when there is none."""
    b = os.environ.get("STRATA_BIN") or os.path.join(REPO, ".build", "debug", "strata")
    if not os.access(b, os.X_OK):
        raise FileNotFoundError("no strata binary at %s (build with `swift build` or set STRATA_BIN)" % b)
    return b


class Serve:
    """A running `strata serve --host 127.0.0.1 --port 0` on `store`, logging to `logpath`."""

    def __init__(self, store, logpath, strata=None):
        self.store = store
        self.logpath = logpath
        self.logfile = open(logpath, "wb")
        self.proc = subprocess.Popen([strata or binary(), "serve", "--store", store, "--host", "127.0.0.1", "--port", "0"],
                                     stdin=subprocess.DEVNULL, stdout=self.logfile, stderr=self.logfile)
        deadline = time.time() + 60
        self.port = None
        while time.time() < deadline:
            with open(logpath, "rb") as f:
                m = re.search(rb"on http://127\.0\.0\.1:(\d+)/", f.read())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                raise RuntimeError("strata serve exited with %s: %s" % (self.proc.returncode, self.log_tail()))
            time.sleep(0.05)
        if self.port is None:
            self.proc.kill()
            raise RuntimeError("strata serve did not report its port: " + self.log_tail())
        self.url = "http://127.0.0.1:%d" % self.port

    def log_tail(self, n=2000):
        """The last `n` bytes of the server's output."""
        with open(self.logpath, "rb") as f:
            return f.read()[-n:].decode("utf-8", "replace")

    def stop(self):
        """SIGTERM, then the exit status (None when it had to be killed)."""
        code = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.logfile.close()
                return code
        self.logfile.close()
        return self.proc.returncode
