"""Output folders are checked before a command's first heavy step: file, under a file, not writable, not empty."""

import pytest

from bierase.errors import UserError
from bierase.folders import check_writable, new_output_dir


def test_a_new_or_empty_writable_folder_is_accepted_and_not_created(tmp_path):
    assert new_output_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b" and not (tmp_path / "a").exists()
    (tmp_path / "empty").mkdir()
    assert new_output_dir(tmp_path / "empty") == tmp_path / "empty"


def test_what_cannot_hold_the_output_is_refused_in_one_line(tmp_path):
    (tmp_path / "f").write_text("x")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("x")
    for path, message in [(tmp_path / "f", "is a file"), (tmp_path / "f" / "sub", "under the file"),
                          (tmp_path / "busy", "not empty"), ("/sys/new", "cannot be written")]:  # fmt: skip
        with pytest.raises(UserError, match=message):
            new_output_dir(path, "--output_dir")
    assert check_writable(tmp_path / "busy") == tmp_path / "busy"  # a run's own folder may hold files
    assert (tmp_path / "busy" / "keep.txt").read_text() == "x"
