"""README results tables are drawn from the committed results files (scripts/readme_tables.py)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("readme_tables", ROOT / "scripts" / "readme_tables.py")
readme_tables = importlib.util.module_from_spec(spec)
spec.loader.exec_module(readme_tables)


def test_the_readme_tables_are_what_their_files_give():
    assert readme_tables.main(["--check"]) == 0
    assert "<!-- table: benchmark_identities -->" in (ROOT / "README.md").read_text()


def test_a_table_typed_by_hand_is_caught_and_rewritten(tmp_path):
    readme = tmp_path / "README.md"
    text = (ROOT / "README.md").read_text()
    start = text.index("<!-- table: benchmark_identities -->")
    row = text.index("| 1 |", start)
    readme.write_text(text[:row] + "| 1 | bi-erasing | 0.0 | 100.0 |" + text[text.index("\n", row) :])
    assert readme_tables.main(["--check", "--readme", str(readme)]) == 1  # the control: a hand-typed row fails
    assert readme_tables.main(["--readme", str(readme)]) == 0
    assert readme.read_text() == text  # rewritten from the file, the prose around it untouched
