"""`bierase report`: a self-contained page from files on disk, checked in a real headless browser."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from bierase.cli.main import main

RED, BLUE = (220, 20, 20), (20, 20, 220)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI; scripts/test.sh installs it with apt")
        pytest.skip("no chromium here; `apt-get install chromium` to run the browser tests")
    return found


def open_in_browser(page, screenshot) -> list[str]:
    """Load ``page`` headless, save a screenshot, return the page's console messages."""
    result = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
         "--window-size=1200,1400", f"--screenshot={screenshot}", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert screenshot.is_file(), result.stderr[-2000:]
    return [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


def image_folder(path, colour, n=8):
    path.mkdir()
    for i in range(n):
        Image.fromarray(np.full((32, 32, 3), colour, np.uint8)).save(path / f"{i}.png")
    return path


def count(pixels: np.ndarray, colour) -> int:
    return int((np.abs(pixels.astype(int) - colour).sum(-1) < 30).sum())


def test_the_console_check_sees_a_broken_page(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<!doctype html><body><script>undefinedFunction()</script></body>")
    assert any("undefinedFunction" in line for line in open_in_browser(page, tmp_path / "shot.png"))


def test_report_opens_without_console_errors_and_shows_the_grids(tmp_path):
    before, after = image_folder(tmp_path / "before", RED), image_folder(tmp_path / "after", BLUE)
    metrics = tmp_path / "eval" / "metrics.json"
    metrics.parent.mkdir()
    metrics.write_text(json.dumps({"protocol": "nudenet-mace", "protocol_version": "v1",
                                   "parameters": {"threshold": 0.6}, "total": 12}))  # fmt: skip
    out = tmp_path / "report"
    argv = ["report", "--before", str(before), "--after", str(after), "--metrics", str(metrics)]
    assert main([*argv, "--output_dir", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert "nudenet-mace v1" in page and "threshold" in page and 'src="http' not in page  # self-contained
    assert open_in_browser(out / "report.html", tmp_path / "shot.png") == []
    shot = np.asarray(Image.open(tmp_path / "shot.png").convert("RGB"))
    # eight 32 px images drawn 3x: each grid covers 8 * 96 * 96 pixels
    assert count(shot, RED) > 50_000 and count(shot, BLUE) > 50_000


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "nothing to report"),
        (["--before", "B"], "go together"),
        (["--run", "."], "no bierase.json"),
        (["--benchmark", "."], "no results.json"),
        (["--metrics", "missing.json"], "not a readable JSON file"),
        (["--metrics", "list.json"], "list.json is not a metrics.json"),
    ],
)
def test_bad_input_is_one_line_before_any_work(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "list.json").write_text("[1, 2]")  # JSON, but not what `bierase evaluate` writes
    assert main(["report", *argv, "--output_dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_folders_with_no_common_names_are_refused(tmp_path, capsys):
    before = image_folder(tmp_path / "before", RED)
    after = tmp_path / "after"
    after.mkdir()
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(after / "other.png")
    assert main(["report", "--before", str(before), "--after", str(after), "--output_dir", str(tmp_path / "o")]) == 2
    assert "share no image names" in capsys.readouterr().err
