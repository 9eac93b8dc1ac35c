"""What every `strata import` does around the reading: a progress line on stderr only when stderr
is a terminal, and resuming: an import SIGKILLed while it writes a run leaves that run marked
incomplete (`import.complete` false), and running the import again imports that source again
(runs imported completely are left alone)."""
import json
import os
import pty
import signal
import subprocess
import time

from built import built


def history(path, steps, metrics):
    with open(path, "w") as f:
        for s in range(steps):
            row = {"_step": s, "_timestamp": 1_760_000_000 + s}
            row.update({f"m{k}": s * 0.5 + k for k in range(metrics)})
            f.write(json.dumps(row) + "\n")


def runs(store):
    r = subprocess.run([built("strata", "STRATA_BIN"), "runs", "--json", "--store", store], capture_output=True, text=True)
    return json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else []


def test_progress_only_on_a_terminal(tmp_path):
    path = str(tmp_path / "h.jsonl")
    history(path, 3000, 2)
    args = [built("strata", "STRATA_BIN"), "import", "wandb", path]
    plain = subprocess.run(args + ["--store", str(tmp_path / "s1")], capture_output=True, text=True)
    assert plain.returncode == 0 and "\r" not in plain.stderr and "importing wandb" not in plain.stderr, plain.stderr
    assert plain.stderr.startswith("imported 1 run from wandb: 2 series, 6,000 points, skipped 0"), plain.stderr

    primary, secondary = pty.openpty()
    env = dict(os.environ)
    env.pop("STRATA_NO_PROGRESS", None)
    p = subprocess.Popen(args + ["--store", str(tmp_path / "s2")], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=secondary, env=env)
    os.close(secondary)
    out = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closes when the process exits
            break
        if not chunk:
            break
        out += chunk
    assert p.wait() == 0
    os.close(primary)
    text = out.decode()
    assert "\r\x1b[Kimporting wandb: line " in text, text
    # the progress line is cleared before the summary
    assert "\r\x1b[Kimported 1 run from wandb: 2 series, 6,000 points" in text, text


def test_killed_import_is_resumed(tmp_path):
    path = str(tmp_path / "big.jsonl")
    history(path, 20000, 50)
    exe = built("strata", "STRATA_BIN")
    for attempt in range(6):
        store = str(tmp_path / f"s{attempt}")
        p = subprocess.Popen([exe, "import", "wandb", path, "--store", store], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        # kill it while the run is created but not yet finished (written series by series)
        while p.poll() is None and not any(r["status"] == "running" for r in runs(store)):
            time.sleep(0.005)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
        p.wait()
        partial = runs(store)
        if len(partial) == 1 and partial[0]["meta"].get("import.complete") is False:
            break
    else:
        raise AssertionError("the import was never caught while writing its run")

    r = subprocess.run([exe, "import", "wandb", path, "--store", store], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith("imported 1 run from wandb: 50 series, 1,000,000 points"), r.stderr
    assert "1 run was imported again: an interrupted import had left it incomplete" in r.stderr, r.stderr
    after = runs(store)
    complete = [x for x in after if x["meta"].get("import.complete") is True]
    assert len(complete) == 1 and len(after) == 2
    assert all(complete[0]["metrics"][f"m{k}"]["count"] == 20000 for k in range(50))
    assert complete[0]["status"] == "finished"
    # and a third run leaves everything alone
    r = subprocess.run([exe, "import", "wandb", path, "--store", store], capture_output=True, text=True)
    assert "1 run was imported before and left alone" in r.stderr and "imported again" not in r.stderr, r.stderr
