"""Fixtures of the integration tests that need more than the root conftest gives."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.asterisk_support import RealAsterisk, require_asterisk

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def real_asterisk(tmp_path: Path) -> Any:
    """A RealAsterisk factory: `pbx = real_asterisk(queue_timeout=2)`, prepared, not started;
    every one is stopped after the test whatever happened."""
    require_asterisk()
    made: list[RealAsterisk] = []

    def make(**kw: Any) -> RealAsterisk:
        pbx = RealAsterisk(tmp_path / f"asterisk{len(made)}", **kw).prepare()
        made.append(pbx)
        return pbx
    try:
        yield make
    finally:
        for pbx in made:
            pbx.stop()


@pytest.fixture(scope="session")
def prompts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`hotline dialplan prompts` output, made once per run (espeak-ng + sox take a few seconds)."""
    from hotline.telephony.media import write_prompts

    out = tmp_path_factory.mktemp("prompts")
    write_prompts(out)
    return out
