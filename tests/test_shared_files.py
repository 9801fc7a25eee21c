"""A missing shared file skips a test on a developer's machine and fails it in CI."""

from pathlib import Path

import pytest

from tests import shared_files
from tests.shared_files import shared_file


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    folder = tmp_path / "shared"
    (folder / "seed").mkdir(parents=True)
    (folder / "seed" / "post.txt").write_text("a post", encoding="utf-8")
    monkeypatch.setattr(shared_files, "SHARED", folder)
    return folder


def test_a_present_file_is_returned(shared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert shared_file("seed", "post.txt") == shared / "seed" / "post.txt"
    assert shared_file("seed") == shared / "seed"


def test_a_missing_file_fails_under_ci(shared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"not found: .*missing\.txt.*CI=true"):
        shared_file("seed", "missing.txt")


@pytest.mark.parametrize("ci", [None, "false", "1"])
def test_a_missing_file_skips_outside_ci(
    shared: Path, monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match=r"not found: .*missing\.txt"):
        shared_file("seed", "missing.txt")


def test_an_override_names_the_file_instead(
    shared: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "openapi.json"
    elsewhere.write_text("{}", encoding="utf-8")
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("SHARED_FILES_TEST_OVERRIDE", str(elsewhere))
    assert shared_file("seed", "post.txt", override="SHARED_FILES_TEST_OVERRIDE") == elsewhere
    monkeypatch.setenv("SHARED_FILES_TEST_OVERRIDE", str(tmp_path / "gone.json"))
    with pytest.raises(pytest.fail.Exception, match=r"gone\.json \(from \$SHARED_FILES_TEST"):
        shared_file("seed", "post.txt", override="SHARED_FILES_TEST_OVERRIDE")
    monkeypatch.delenv("SHARED_FILES_TEST_OVERRIDE")
    assert shared_file("seed", "post.txt", override="SHARED_FILES_TEST_OVERRIDE") == (
        shared / "seed" / "post.txt"
    )
