"""Prompt sets with seeds: the bundled benchmark CSVs or a user's own, read into one row type.

The literature's CSVs disagree on columns (``case_number`` vs ``image_id``, an
unnamed index column, ``evaluation_guidance`` only in I2P), so every reader
of a prompt set goes through here and sees the same ``PromptRow``. A row's
``case_number`` names its image, which is what makes runs resumable and
comparable across models.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from bierase.errors import UserError

PROMPT_COLUMNS = ("prompt",)
SEED_COLUMNS = ("evaluation_seed", "seed")
GUIDANCE_COLUMNS = ("evaluation_guidance", "guidance", "guidance_scale")
ID_COLUMNS = ("case_number", "image_id")
INDEX_COLUMNS = ("", "Unnamed: 0")  # what pandas writes for (and reads back from) an index column
ALIASES = {"i2p": "i2p_4703", "coco": "coco_10k", "imagenette": "imagenette_prompts", "artist": "artist_prompts"}


@dataclass(frozen=True)
class PromptRow:
    case_number: str
    prompt: str
    seed: int
    guidance: float | None = None
    extra: dict[str, str] = field(default_factory=dict)


def bundled_folder() -> Path:
    return Path(str(resources.files("bierase") / "data" / "prompts"))


def bundled_names() -> list[str]:
    """Stems of the prompt sets that ship with the package (``i2p_4703``, ``coco_10k``, ...)."""
    return sorted(path.stem for path in bundled_folder().glob("*.csv"))


def resolve_prompt_csv(path_or_name: str | Path) -> Path:
    """A CSV path as given, else a bundled set named by its stem (or a short alias such as ``i2p``)."""
    path = Path(path_or_name)
    if path.is_file():
        return path
    name = ALIASES.get(str(path_or_name), str(path_or_name))
    bundled = bundled_folder() / f"{name}.csv"
    if bundled.is_file():
        return bundled
    raise UserError(
        f"prompt set {path_or_name} is neither a CSV file nor a bundled set; "
        f"pass a CSV path or one of {', '.join(bundled_names())}"
    )


def read_prompt_csv(path_or_name: str | Path) -> list[PromptRow]:
    """Every row of a prompt CSV, with its id, prompt, integer seed and optional guidance."""
    path = resolve_prompt_csv(path_or_name)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = list(reader.fieldnames or [])
        records = list(reader)
    prompt_col = _pick(columns, PROMPT_COLUMNS)
    seed_col = _pick(columns, SEED_COLUMNS)
    if prompt_col is None:
        raise UserError(
            f"{path} has no 'prompt' column (columns: {', '.join(columns)}); name the prompt column 'prompt'"
        )
    if seed_col is None:
        raise UserError(
            f"{path} has no seed column (columns: {', '.join(columns)}); add an 'evaluation_seed' column of integers"
        )
    guidance_col = _pick(columns, GUIDANCE_COLUMNS)
    id_col = _pick(columns, ID_COLUMNS) or _pick(columns, INDEX_COLUMNS)
    used = {prompt_col, seed_col, guidance_col, id_col, *INDEX_COLUMNS}  # an index column is no data
    rows = []
    for number, record in enumerate(records):
        line = number + 2  # the header is line 1
        case = (record.get(id_col) or "").strip() if id_col is not None else str(number)
        if not case:
            raise UserError(f"{path} line {line}: empty {id_col!r}; give every row an id (it names the image)")
        rows.append(
            PromptRow(
                case_number=case,
                prompt=record.get(prompt_col) or "",
                seed=_seed(record.get(seed_col), path, line, seed_col),
                guidance=_guidance(record.get(guidance_col), path, line, guidance_col) if guidance_col else None,
                extra={k: v for k, v in record.items() if k not in used and k is not None},
            )
        )
    _check_unique(rows, path, id_col)
    return rows


def _pick(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    return next((name for name in candidates if name in columns), None)


def _seed(text: str | None, path: Path, line: int, column: str) -> int:
    """An integer seed; ``12.0`` (what spreadsheets and pandas write for integers) is read as 12."""
    value = (text or "").strip()
    seed = None
    if value.isdigit():
        seed = int(value)
    else:
        try:
            number = float(value)
            seed = int(number) if number.is_integer() else None
        except (ValueError, OverflowError):
            pass
    if seed is None or not 0 <= seed < 2**64:
        raise UserError(f"{path} line {line}: {column} {value!r} is not an integer seed; give an integer >= 0")
    return seed


def _guidance(text: str | None, path: Path, line: int, column: str) -> float | None:
    value = (text or "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise UserError(
            f"{path} line {line}: {column} {value!r} is not a number; give a guidance scale or leave it empty"
        ) from None


def _check_unique(rows: list[PromptRow], path: Path, column: str | None) -> None:
    seen: set[str] = set()
    for row in rows:
        if row.case_number in seen:
            raise UserError(
                f"{path}: {column} {row.case_number!r} appears twice; ids name the images, make them unique"
            )
        seen.add(row.case_number)
