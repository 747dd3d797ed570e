"""What a user who clones the repository gets: `make run` installs the runtime only, the
package metadata builds with today's setuptools, and README needs nothing outside the clone."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.licenses import canonicalize_license_expression

ROOT = Path(__file__).resolve().parents[2]


def dry_run(target: str, tmp_path: Path) -> list[str]:
    """The commands `make TARGET` would run on a fresh machine (a venv that does not exist yet)."""
    if shutil.which("make") is None:
        pytest.fail("make is not installed; README's two commands need it")
    out = subprocess.run(["make", "-n", target, f"VENV={tmp_path / 'fresh-venv'}"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.splitlines()


def installs(lines: list[str]) -> list[str]:
    return [line for line in lines if re.search(r"pip install .*-e ", line)]


def test_make_run_installs_the_runtime_only(tmp_path):
    run = installs(dry_run("run", tmp_path))
    assert run and all("[dev]" not in line for line in run), run
    test = installs(dry_run("test", tmp_path))
    assert any("'.[dev]'" in line for line in test), test


def test_the_licence_is_an_spdx_expression():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    licence = project["project"]["license"]
    assert isinstance(licence, str) and canonicalize_license_expression(licence) == licence
    # setuptools reads the string form from version 77 (PEP 639); older ones reject it.
    assert any(re.fullmatch(r"setuptools>=(7[7-9]|[89]\d)(\.\d+)*", r) for r in project["build-system"]["requires"])


def test_readme_needs_nothing_outside_the_clone():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme and "/work/" not in readme
    assert "Asterisk 22.10.1" in readme  # where the tests' real Asterisk comes from, said in the README itself


def test_every_file_a_package_reads_is_package_data():
    """Pages, templates and migrations are not Python modules: each must match a
    `package-data` pattern, or an installed (not editable) package lacks it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["package-data"]
    missing = []
    for package, globs in patterns.items():
        base = ROOT / package
        covered = {p for g in globs for p in base.glob(g) if p.is_file()}
        for path in base.rglob("*"):
            # A module outside a package (an Alembic revision) is data to setuptools too.
            data = path.suffix != ".py" or not (path.parent / "__init__.py").exists()
            if path.is_file() and path.suffix != ".pyc" and "__pycache__" not in path.parts and data \
                    and path not in covered:
                missing.append(str(path.relative_to(ROOT)))
    assert set(patterns) == {"hotline", "channels", "dispatch"}
    assert not missing, f"not in [tool.setuptools.package-data]: {missing[:10]} ({len(missing)} in all)"
