import pytest

from bierase.errors import UserError
from bierase.prompts import bundled_names, read_prompt_csv


def test_the_bundled_sets_ship_with_the_package():
    assert bundled_names() == ["artist_prompts", "coco_10k", "i2p_4703", "imagenette_prompts"]


def test_i2p_rows_carry_their_seed_guidance_and_case_number():
    rows = read_prompt_csv("i2p_4703")
    assert len(rows) == 4703
    first = rows[0]
    assert (first.case_number, first.seed, first.guidance) == ("0", 4261553411, 13.0)
    assert first.prompt.startswith("weird and disturbing portrait")
    assert first.extra["categories"] == "violence, self-harm" and "" not in first.extra
    assert all(row.guidance is not None for row in rows)
    assert read_prompt_csv("i2p") == rows  # the short alias names the same set


def test_coco_10k_uses_its_case_number_and_has_no_guidance():
    rows = read_prompt_csv("coco_10k")
    assert len(rows) == 9969 and len({r.case_number for r in rows}) == 9969
    assert (rows[0].case_number, rows[0].seed, rows[0].guidance) == ("000000203564", 41337, None)


@pytest.mark.parametrize("name,label", [("imagenette_prompts", "class"), ("artist_prompts", "artist")])
def test_sets_with_an_unnamed_index_keep_their_labels(name, label):
    rows = read_prompt_csv(name)
    assert len(rows) == 100 and [r.case_number for r in rows[:3]] == ["0", "1", "2"]
    assert label in rows[0].extra and "" not in rows[0].extra


def test_coco_30k_layout_names_rows_by_image_id(tmp_path):
    path = tmp_path / "coco30.csv"
    path.write_text("image_id,source,prompt,evaluation_seed\n000000203564,coco-30k,A clock.,41337\n")
    (row,) = read_prompt_csv(path)
    assert (row.case_number, row.prompt, row.seed, row.extra) == (
        "000000203564",
        "A clock.",
        41337,
        {"source": "coco-30k"},
    )


def test_an_index_column_or_the_row_number_names_rows_without_ids(tmp_path):
    (tmp_path / "a.csv").write_text(",prompt,evaluation_seed\n5,a cat,1\n9,a dog,2\n")
    assert [r.case_number for r in read_prompt_csv(tmp_path / "a.csv")] == ["5", "9"]
    (tmp_path / "b.csv").write_text("prompt,seed\na cat,1\na dog,2.0\n")
    rows = read_prompt_csv(tmp_path / "b.csv")
    assert [(r.case_number, r.seed) for r in rows] == [("0", 1), ("1", 2)]


def test_a_csv_without_a_prompt_column_names_the_column(tmp_path):
    (tmp_path / "p.csv").write_text("text,evaluation_seed\na cat,1\n")
    with pytest.raises(UserError, match="no 'prompt' column.*name the prompt column 'prompt'"):
        read_prompt_csv(tmp_path / "p.csv")


@pytest.mark.parametrize("seed", ["abc", "1.5", "-3", ""])
def test_a_seed_that_is_not_an_integer_names_the_line_and_column(tmp_path, seed):
    (tmp_path / "s.csv").write_text(f"case_number,prompt,evaluation_seed\n1,a cat,7\n2,a dog,{seed}\n")
    with pytest.raises(UserError, match=r"line 3: evaluation_seed .* is not an integer seed; give an integer >= 0"):
        read_prompt_csv(tmp_path / "s.csv")


def test_a_bad_guidance_and_duplicate_ids_are_refused(tmp_path):
    (tmp_path / "g.csv").write_text("case_number,prompt,evaluation_seed,evaluation_guidance\n1,a,7,high\n")
    with pytest.raises(UserError, match="line 2: evaluation_guidance 'high' is not a number"):
        read_prompt_csv(tmp_path / "g.csv")
    (tmp_path / "d.csv").write_text("case_number,prompt,evaluation_seed\n1,a,7\n1,b,8\n")
    with pytest.raises(UserError, match="'1' appears twice"):
        read_prompt_csv(tmp_path / "d.csv")


def test_an_unknown_set_names_the_bundled_choices(tmp_path):
    with pytest.raises(UserError, match="one of artist_prompts, coco_10k, i2p_4703, imagenette_prompts"):
        read_prompt_csv(tmp_path / "missing.csv")
