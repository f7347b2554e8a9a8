"""Output folders: where a command may write, checked before its first heavy step.

Every command that writes a folder checks it here: not a file, not under a file, writable, and (for a
new folder) empty, so nothing on disk is lost. ``bierase erase`` adds its own rules for continuing or
replacing a run (``bierase.erasing.outputs``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bierase.errors import UserError, first_line


def check_writable(path: str | Path, flag: str = "--output_dir") -> Path:
    """``path`` is a folder, or can be made one: its nearest existing ancestor is a writable folder."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"{flag} {path} is a file; choose a folder")
    ancestor = path
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UserError(f"{flag} {path} is under the file {ancestor}; choose a folder elsewhere")
    try:  # the only honest test of writability (permissions, read-only mounts, root)
        with tempfile.TemporaryFile(dir=ancestor):
            pass
    except OSError as error:
        raise UserError(
            f"{flag} {path} cannot be written ({ancestor}: {first_line(error)}); choose another folder"
        ) from error
    return path


def new_output_dir(path: str | Path, flag: str = "--output_dir") -> Path:
    """A folder to write into without losing anything: missing or empty, and writable."""
    path = check_writable(path, flag)
    if path.is_dir() and any(path.iterdir()):
        raise UserError(f"{flag} {path} already exists and is not empty; choose a new folder")
    return path
