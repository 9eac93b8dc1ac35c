"""System metrics of the machine and of this process, sampled by a background thread and logged as
``sys/*`` series (docs/PYTHON.md "System metrics").

CPU, memory, disk and network come from ``/proc`` (Linux; elsewhere those series are simply not
logged); GPUs from ``nvidia-smi`` when it is on ``PATH`` (skipped silently otherwise).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time

MIB = 1024.0 * 1024.0

# nvidia-smi --query-gpu fields, in order, and the series each becomes (sys/gpu.<index>.<name>).
GPU_FIELDS = [("utilization.gpu", "utilization_percent"), ("memory.used", "memory_used_mib"),
              ("memory.total", None), ("power.draw", "power_w"), ("temperature.gpu", "temperature_c")]


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _cpu_times():
    """(busy, total) clock ticks of the whole machine, from the first line of /proc/stat."""
    text = _read("/proc/stat")
    if not text or not text.startswith("cpu "):
        return None
    # user nice system idle iowait irq softirq steal (guest time is already in user and nice).
    v = [int(x) for x in text.split("\n", 1)[0].split()[1:9]]
    total = sum(v)
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return total - idle, total


def _process_cpu_seconds():
    text = _read("/proc/self/stat")
    if not text:
        return None
    fields = text.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))  # utime + stime


def _meminfo():
    text = _read("/proc/meminfo")
    if not text:
        return None
    kb = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            kb[parts[0].rstrip(":")] = int(parts[1])
    return kb


def _process_rss_kib():
    text = _read("/proc/self/status")
    for line in (text or "").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


def _disk_bytes():
    """(read, written) bytes of the whole disks (not partitions, loop or RAM devices)."""
    text = _read("/proc/diskstats")
    if not text:
        return None
    try:
        disks = set(os.listdir("/sys/block"))
    except OSError:
        disks = None
    r = w = 0
    for line in text.splitlines():
        f = line.split()
        if len(f) < 10:
            continue
        name = f[2]
        if name.startswith(("loop", "ram", "zram")) or (disks is not None and name not in disks):
            continue
        r += int(f[5]) * 512  # sectors are 512 bytes in /proc/diskstats whatever the device's
        w += int(f[9]) * 512
    return r, w


def _net_bytes():
    """(received, sent) bytes of every interface but loopback."""
    text = _read("/proc/net/dev")
    if not text:
        return None
    rx = tx = 0
    for line in text.splitlines()[2:]:
        name, _, rest = line.partition(":")
        f = rest.split()
        if name.strip() == "lo" or len(f) < 9:
            continue
        rx += int(f[0])
        tx += int(f[8])
    return rx, tx


def _disk_percent(path):
    try:
        st = os.statvfs(path)
    except (OSError, AttributeError):
        return None
    used = (st.f_blocks - st.f_bfree) * st.f_frsize
    avail = st.f_bavail * st.f_frsize
    return 100.0 * used / (used + avail) if used + avail > 0 else None


def _gpus(binary):
    """{series: value} of every GPU nvidia-smi reports, or None when it fails."""
    query = ",".join(["index"] + [f for f, _ in GPU_FIELDS])
    try:
        out = subprocess.run([binary, "--query-gpu=" + query, "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    values = {}
    for line in out.stdout.splitlines():
        cells = [c.strip() for c in line.split(",")]
        if len(cells) != len(GPU_FIELDS) + 1 or not cells[0].isdigit():
            continue
        row = {}
        for (field, _), cell in zip(GPU_FIELDS, cells[1:]):
            try:
                row[field] = float(cell)
            except ValueError:  # "[N/A]", "[Not Supported]"
                pass
        prefix = "sys/gpu.%s." % cells[0]
        for field, name in GPU_FIELDS:
            if name and field in row:
                values[prefix + name] = row[field]
        if row.get("memory.total"):
            values[prefix + "memory_percent"] = 100.0 * row.get("memory.used", 0.0) / row["memory.total"]
    return values if values else None


class SystemSampler:
    """Samples system metrics every ``interval`` seconds on a daemon thread and hands each sample
    to ``emit(metrics, step, time_ms)``. The step of a sample is the milliseconds since the sampler
    started (the run's ``init``); rates (``*_mib_s``, ``*_percent`` of CPU) are over the interval
    since the previous sample."""

    def __init__(self, emit, interval=10.0, path=None):
        if not interval or interval <= 0:
            raise ValueError("system metrics interval must be > 0 seconds, got %r" % (interval,))
        self.interval = float(interval)
        self.samples = 0
        self._emit = emit
        self._path = path or os.getcwd()
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._nvidia_smi = shutil.which("nvidia-smi")
        self._gpu_failures = 0
        self._last = self._counters()
        self._thread = threading.Thread(target=self._loop, name="strata-system-metrics", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(30)

    def _loop(self):
        while not self._stop.wait(self.interval):
            try:
                self.sample()
            except Exception:  # noqa: BLE001 - a sampler problem must never stop the training
                pass

    def _counters(self):
        return {"t": time.monotonic(), "cpu": _cpu_times(), "proc": _process_cpu_seconds(),
                "disk": _disk_bytes(), "net": _net_bytes()}

    def read(self):
        """One sample: {series name: value}; rates since the previous call."""
        now = self._counters()
        last, self._last = self._last, now
        dt = now["t"] - last["t"]
        m = {}
        if now["cpu"] and last["cpu"] and now["cpu"][1] > last["cpu"][1]:
            m["sys/cpu.percent"] = 100.0 * (now["cpu"][0] - last["cpu"][0]) / (now["cpu"][1] - last["cpu"][1])
        if now["proc"] is not None and last["proc"] is not None and dt > 0:
            m["sys/cpu.process_percent"] = 100.0 * (now["proc"] - last["proc"]) / dt  # 100 = one core
        mem = _meminfo()
        if mem and mem.get("MemTotal"):
            available = mem.get("MemAvailable", mem.get("MemFree", 0))
            m["sys/memory.percent"] = 100.0 * (mem["MemTotal"] - available) / mem["MemTotal"]
            m["sys/memory.used_mib"] = (mem["MemTotal"] - available) / 1024.0
        rss = _process_rss_kib()
        if rss is not None:
            m["sys/memory.process_rss_mib"] = rss / 1024.0
        disk = _disk_percent(self._path)
        if disk is not None:
            m["sys/disk.percent"] = disk
        for key, names in (("disk", ("sys/disk.read_mib_s", "sys/disk.write_mib_s")),
                           ("net", ("sys/net.recv_mib_s", "sys/net.sent_mib_s"))):
            if now[key] and last[key] and dt > 0:
                for name, a, b in zip(names, now[key], last[key]):
                    m[name] = max(0, a - b) / MIB / dt
        if self._nvidia_smi and self._gpu_failures < 3:
            gpus = _gpus(self._nvidia_smi)
            if gpus is None:
                self._gpu_failures += 1  # three failures in a row: no GPU metrics for this run
            else:
                self._gpu_failures = 0
                m.update(gpus)
        return m

    def sample(self):
        """Takes a sample now and logs it (the thread calls this every ``interval`` seconds)."""
        metrics = self.read()
        step = int((time.monotonic() - self._started) * 1000)
        if metrics:
            self._emit(metrics, step, int(time.time() * 1000))
        self.samples += 1
        return metrics
