"""A minimal Chrome DevTools Protocol client over `--remote-debugging-pipe` (Python stdlib only).

Chromium reads commands from its fd 3 and writes answers and events to its fd 4, each message a JSON
text followed by a NUL byte. One page target is created and attached (flattened sessions).
"""
import base64
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time

CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]


def find_chromium():
    for c in [os.environ.get("STRATA_CHROMIUM")] + CANDIDATES:
        if c and os.access(c, os.X_OK):
            return c
    return shutil.which("chromium")


class CDPError(RuntimeError):
    pass


class Browser:
    def __init__(self, width=1400, height=900):
        exe = find_chromium()
        if not exe:
            raise FileNotFoundError("chromium is not installed (apt-get install -y chromium)")
        self.profile = tempfile.mkdtemp(prefix="strata-chromium-")
        to_child_r, self._w = os.pipe()
        self._r, from_child_w = os.pipe()

        def fds():
            # Through high numbers first: a pipe end may itself be fd 3 or 4 (and dup2 onto the
            # same number would keep its close-on-exec flag).
            a, b = os.dup2(to_child_r, 200, inheritable=False), os.dup2(from_child_w, 201, inheritable=False)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
             "--hide-scrollbars", "--user-data-dir=" + self.profile,
             "--window-size=%d,%d" % (width, height), "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=fds, close_fds=False)
        os.close(to_child_r)
        os.close(from_child_w)
        self.width, self.height = width, height
        self._id = 0
        self._lock = threading.Lock()
        self._waiting = {}
        self.events = queue.Queue()
        self.exceptions = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self._r, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                for q in list(self._waiting.values()):
                    q.put({"error": {"message": "browser closed the pipe"}})
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg and msg["id"] in self._waiting:
                    self._waiting.pop(msg["id"]).put(msg)
                else:
                    if msg.get("method") == "Runtime.exceptionThrown":
                        self.exceptions.append(msg["params"]["exceptionDetails"])
                    self.events.put(msg)

    def send(self, method, params=None, session=None, timeout=60):
        with self._lock:
            self._id += 1
            mid = self._id
            q = queue.Queue()
            self._waiting[mid] = q
            msg = {"id": mid, "method": method, "params": params or {}}
            if session:
                msg["sessionId"] = session
            os.write(self._w, json.dumps(msg).encode() + b"\0")
        try:
            ans = q.get(timeout=timeout)
        except queue.Empty:
            raise CDPError("no answer to %s within %ss" % (method, timeout))
        if "error" in ans:
            raise CDPError("%s: %s" % (method, ans["error"].get("message")))
        return ans.get("result", {})

    def new_page(self, url="about:blank"):
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session, target)
        page.send("Page.enable")
        page.send("Runtime.enable")
        page.send("Emulation.setDeviceMetricsOverride",
                  {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False})
        if url != "about:blank":
            page.goto(url)
        return page

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._w, self._r):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    def __init__(self, browser, session, target):
        self.browser, self.session, self.target = browser, session, target

    def send(self, method, params=None, timeout=60):
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def eval(self, expression):
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            raise CDPError("page script failed: %s\n%s" % (expression[:200], json.dumps(r["exceptionDetails"])[:1500]))
        return r["result"].get("value")

    def wait(self, expression, timeout=30, what=None):
        """Polls `expression` until it is truthy; fails (naming `what`) when it never becomes so."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = self.eval(expression)
            if last:
                return last
            time.sleep(0.1)
        raise AssertionError("page never reached: %s (last value %r)" % (what or expression, last))

    def goto(self, url):
        self.send("Page.bringToFront")  # a background tab does not lay out or observe intersections
        self.send("Page.navigate", {"url": url})
        self.wait("document.readyState === 'complete' && document.body && document.body.dataset.ready === '1'",
                  what="page loaded: " + url)

    def mouse(self, kind, x, y, buttons=0, modifiers=0):
        params = {"type": kind, "x": x, "y": y, "modifiers": modifiers, "pointerType": "mouse"}
        if kind in ("mousePressed", "mouseReleased"):
            params.update({"button": "left", "clickCount": 1})
        if buttons:
            params["buttons"] = buttons
        self.send("Input.dispatchMouseEvent", params)

    def click(self, x, y):
        self.mouse("mouseMoved", x, y)
        self.mouse("mousePressed", x, y, buttons=1)
        self.mouse("mouseReleased", x, y)

    def drag(self, x0, y0, x1, y1, steps=6, modifiers=0):
        self.mouse("mouseMoved", x0, y0)
        self.mouse("mousePressed", x0, y0, buttons=1, modifiers=modifiers)
        for i in range(1, steps + 1):
            self.mouse("mouseMoved", x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps, buttons=1, modifiers=modifiers)
        self.mouse("mouseReleased", x1, y1, modifiers=modifiers)

    def type(self, text):
        self.send("Input.insertText", {"text": text})

    def key(self, key, code, vk):
        for kind in ("rawKeyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": code, "windowsVirtualKeyCode": vk})

    def screenshot(self, path, full=False):
        params = {"format": "png"}
        if full:
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", params)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def close(self):
        self.browser.send("Target.closeTarget", {"targetId": self.target})

    def front(self):
        self.send("Page.bringToFront")
