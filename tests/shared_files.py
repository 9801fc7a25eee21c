"""Files the tests read from the `shared/` folder beside the repository, never copied into it.

Discord's OpenAPI spec (`shared/discord/api-spec/openapi.json`) and the seed post
(`shared/seed/`) live next to the checkout. A test that needs one and does not find it is
skipped on a developer's machine, and fails in CI (`CI=true`), where a missing file means the
checks did not run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"


def shared_file(*parts: str, override: str | None = None) -> Path:
    """The path `SHARED/parts...`, or the file named by the environment variable `override`
    when that is set; skips the test (fails it under CI=true) when the file is missing.

    Usable inside a test, inside a fixture, and at a test module's top level.
    """
    if override and os.environ.get(override):
        path = Path(os.environ[override]).expanduser()
        where = f"{path} (from ${override})"
    else:
        path = SHARED.joinpath(*parts)
        where = f"{path} (../{'/'.join(('shared', *parts))} beside the repository)"
    if not path.exists():
        _missing(f"shared file not found: {where}")
    return path


def _missing(message: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI=true, so this is a failure, not a skip", pytrace=False)
    pytest.skip(message, allow_module_level=True)
