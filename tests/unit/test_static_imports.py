"""Every ES module the pages load resolves to a file the repository ships.

The desk's SIP.js once imported `lib/grammar/pegjs/dist/grammar.js`, which `.gitignore`'s `dist/`
kept out of the commit: the helper's checkout worked, a clean clone's softphone did not.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMPORT = re.compile(
    r"""(?:^|[;\s})])(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]"""
    r"""|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)"""
    r"""|^\s*import\s+['"]([^'"]+)['"]""",
    re.MULTILINE,
)


def _static_modules() -> list[Path]:
    return sorted(p for p in ROOT.glob("**/static/**/*.js") if ".venv" not in p.parts)


def _relative_imports(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    found = (next(g for g in m.groups() if g) for m in IMPORT.finditer(text))
    return [spec for spec in found if spec.startswith(".")]


# A module's page may load another module's static files by URL (the reports page uses the
# desk's common.js and uPlot): `/<module>/static/…` is served from `hotline/<module>/static/`.
SERVED = re.compile(r"^/(\w+)/static/(.+)$")


def _served_imports(path: Path) -> list[Path]:
    text = path.read_text(encoding="utf-8")
    found = (next(g for g in m.groups() if g) for m in IMPORT.finditer(text))
    return [ROOT / "hotline" / m[1] / "static" / m[2] for spec in found if (m := SERVED.match(spec))]


def test_every_relative_import_exists_and_is_not_ignored_by_git() -> None:
    modules = _static_modules()
    assert modules, "no static ES modules found: the glob is wrong"
    targets = {(m / ".." / spec).resolve() for m in modules for spec in _relative_imports(m)}
    targets |= {t.resolve() for m in modules for t in _served_imports(m)}
    missing = sorted(str(t.relative_to(ROOT)) for t in targets if not t.is_file())
    assert not missing, f"imported but absent: {missing}"
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *(str(t) for t in targets)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    ).stdout.split()
    assert not ignored, f"imported but ignored by git, a clean clone lacks them: {ignored}"


def test_the_scanner_sees_a_static_and_a_dynamic_import(tmp_path: Path) -> None:
    js = tmp_path / "a.js"
    js.write_text('import { X } from "./b.js";\nconst m = await import("./c.js");\nimport "./d.js";\n',
                  encoding="utf-8")
    assert _relative_imports(js) == ["./b.js", "./c.js", "./d.js"]


def test_the_scanner_maps_a_served_url_to_its_module_folder(tmp_path: Path) -> None:
    js = tmp_path / "r.js"
    js.write_text('import { api } from "/desk/static/common.js";\n', encoding="utf-8")
    assert _served_imports(js) == [ROOT / "hotline" / "desk" / "static" / "common.js"]
