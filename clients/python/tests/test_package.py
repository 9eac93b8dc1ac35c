"""The client as a package: the wheel builds from clients/python, installs into a fresh virtual
environment, and the installed module logs to the real binary."""
import os
import shutil
import subprocess
import sys
import textwrap
import venv
import zipfile

import pytest

from conftest import HERE, export

SOURCE = os.path.abspath(os.path.join(HERE, ".."))


def copy_source(tmp_path):
    # Builds write build/ and *.egg-info next to the sources: build from a copy, not the checkout.
    dst = tmp_path / "src"
    shutil.copytree(SOURCE, dst, ignore=shutil.ignore_patterns("tests", "bench", "__pycache__", "build", "*.egg-info"))
    return dst


def fresh_venv(path):
    venv.EnvBuilder(with_pip=True, clear=True).create(str(path))
    return str(path / "bin" / "python")


BACKEND = ("hatchling", "packaging", "pathspec", "pluggy", "tomlkit", "trove_classifiers")


def backend_dir(tmp_path):
    """A directory holding the build backend the pyproject names (hatchling and what it imports),
    taken from the test environment so that building needs no network; skips without it."""
    try:
        import hatchling  # noqa: F401
    except ImportError:
        pytest.skip("no hatchling in %s to build offline (requirements-test.txt pins it)" % sys.executable)
    d = tmp_path / "backend"  # the backend alone, not the rest of the test environment
    d.mkdir()
    for name in BACKEND:
        module = __import__(name)
        os.symlink(os.path.dirname(os.path.abspath(module.__file__)), str(d / name))
    return str(d)


USE = textwrap.dedent("""
    import os, sys
    import strata_metrics
    assert os.path.realpath(strata_metrics.__file__).startswith(os.path.realpath(sys.prefix)), strata_metrics.__file__
    try:
        import strata
    except ImportError:
        pass
    else:
        raise SystemExit("the wheel installed a top-level `strata` (PyPI's `strata` owns that name)")
    run = strata_metrics.init(name="from-wheel", params={"lr": 0.5}, capture=False)
    for s in range(100):
        run.log({"loss": s * 0.25}, step=s)
    run.finish()
    print(strata_metrics.__version__)
""")


def test_wheel_installs_into_a_fresh_venv_and_logs(strata_bin, store_dir, tmp_path):
    backend = backend_dir(tmp_path)
    src = copy_source(tmp_path)
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                    "-w", str(dist), str(src)], check=True, capture_output=True, env=dict(os.environ, PYTHONPATH=backend))
    wheels = list(dist.glob("strata_metrics-*-py3-none-any.whl"))
    assert len(wheels) == 1, list(dist.iterdir())
    with zipfile.ZipFile(wheels[0]) as z:
        names = z.namelist()
        meta = z.read([n for n in names if n.endswith(".dist-info/METADATA")][0]).decode()
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {"strata_metrics"}
    import strata_metrics
    assert "Name: strata-metrics" in meta and "Requires-Python: >=3.8" in meta
    assert "Version: %s\n" % strata_metrics.__version__ in meta  # one version, in the module
    assert "Requires-Dist" not in meta  # standard library only

    python = fresh_venv(tmp_path / "venv")
    subprocess.run([python, "-m", "pip", "install", "--no-index", "--no-deps", str(wheels[0])], check=True, capture_output=True)
    env = dict(os.environ, STRATA_BIN=strata_bin, STRATA_STORE=store_dir)
    env.pop("STRATA_URL", None)
    env.pop("PYTHONPATH", None)
    out = subprocess.run([python, "-c", USE], cwd=str(tmp_path), env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == strata_metrics.__version__
    points = [p for p in export(strata_bin, store_dir) if p["run"] == "from-wheel"]
    assert [(p["step"], p["value"]) for p in points] == [(s, s * 0.25) for s in range(100)]


def test_pip_install_of_the_source_directory(strata_bin, store_dir, tmp_path):
    """`pip install DIR` in a fresh venv. Offline, so without build isolation: the backend comes
    from the test environment (on PYTHONPATH for the install only; the import below has none)."""
    backend = backend_dir(tmp_path)
    src = copy_source(tmp_path)
    python = fresh_venv(tmp_path / "venv")
    subprocess.run([python, "-m", "pip", "install", "--no-index", "--no-build-isolation", str(src)], check=True,
                   capture_output=True, env=dict(os.environ, PYTHONPATH=backend))
    env = dict(os.environ, STRATA_BIN=strata_bin, STRATA_STORE=store_dir)
    env.pop("STRATA_URL", None)
    env.pop("PYTHONPATH", None)
    out = subprocess.run([python, "-c", USE], cwd=str(tmp_path), env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert len([p for p in export(strata_bin, store_dir) if p["run"] == "from-wheel"]) == 100


def test_old_import_name_is_the_same_module():
    import strata_metrics
    with pytest.warns(DeprecationWarning, match="strata_metrics"):
        sys.modules.pop("strata", None)
        import strata
    assert strata is strata_metrics
