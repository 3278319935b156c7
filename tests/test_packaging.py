"""The install paths agree: pyproject.toml, environment.yml, the Makefile and .ci/run."""

import os
import re
import subprocess
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject_packages() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"]) + [r for extra in project["optional-dependencies"].values() for r in extra]
    return {_name(r) for r in reqs}


def environment_pip_packages() -> list[str]:
    """The entries of environment.yml's pip section (a tiny parser: no YAML dependency)."""
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.strip() == "- pip:")
    entries = []
    for line in lines[start + 1 :]:
        if not line.strip().startswith("- "):
            break
        entries.append(line.strip()[2:].strip())
    return entries


def test_environment_yml_names_the_same_packages_as_pyproject():
    pip = environment_pip_packages()
    named = {_name(e) for e in pip if not e.startswith("-e")}
    assert named == pyproject_packages()
    assert "-e ." in pip  # and installs the project itself


def test_torch_is_pinned_in_every_install_path():
    # A bare `torch` requirement can pull a multi-GB CUDA build: the CI/README path pins it.
    assert "torch==2.13.0" in environment_pip_packages()
    assert re.search(r"^TORCH\s*\?=\s*torch==2\.13\.0", (ROOT / "Makefile").read_text(), re.M)


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and re.search(r"^make test$", ci, re.M)
    make = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: env", make, re.M) and "--nbval-lax --nbval-current-env" in make


def test_make_lab_opens_the_book_trusted_and_ci_runs_the_portable_variant():
    make = (ROOT / "Makefile").read_text()
    lab = make.split("\nlab:", 1)[1].split("\n\n", 1)[0]
    assert "jupyter trust book/" in lab  # saved widget views render without Run All
    portable = make.split("\nPORTABLE ?=", 1)[1].split("\n", 1)[0]
    assert "OMP_NUM_THREADS=1" in portable and "ONEDNN_MAX_CPU_ISA=" in portable
    assert re.search(r"^make test-portable$", (ROOT / ".ci" / "run").read_text(), re.M)


def test_make_lab_may_run_as_root_and_a_user_sees_no_change():
    # JupyterLab exits with "Running as root is not recommended" unless --allow-root: the common
    # case in containers. A normal user's command stays as it was.
    dry = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    lab = next(line for line in dry.splitlines() if "jupyter lab" in line)
    assert ("--allow-root" in lab) == (os.getuid() == 0)
