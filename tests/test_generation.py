import csv
import json
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image

from bierase.cli.main import main
from bierase.generation import (
    GenerationConfig,
    batches,
    generate_prompt_set,
    merge_manifests,
    rows_for_process,
    select_rows,
    write_manifest,
)
from bierase.prompts import PromptRow

CSV = (
    "case_number,prompt,evaluation_seed,evaluation_guidance\nc1,a red star,11,\nc2,a cross,12,3\nc3,a blue circle,13,\n"
)


@pytest.mark.parametrize("num_processes", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("n_rows", [0, 1, 4, 23])
def test_the_split_gives_every_row_to_exactly_one_process(n_rows, num_processes):
    parts = [rows_for_process(n_rows, rank, num_processes) for rank in range(num_processes)]
    assert sorted(i for part in parts for i in part) == list(range(n_rows))
    assert max(len(p) for p in parts) - min(len(p) for p in parts) <= 1  # balanced
    assert parts == [rows_for_process(n_rows, rank, num_processes) for rank in range(num_processes)]  # deterministic


def test_a_process_index_out_of_range_is_a_bug():
    with pytest.raises(ValueError):
        rows_for_process(5, 2, 2)


def rows(*guidances):
    return [PromptRow(str(i), f"p{i}", i, g) for i, g in enumerate(guidances)]


def test_batches_never_mix_guidance_scales():
    made = batches(rows(None, 13.0, None, 13.0, 7.0, None), override=None, batch_size=2)
    assert [(scale, [r.case_number for r in batch]) for scale, batch in made] == [
        (7.5, ["0", "2"]),
        (7.5, ["5"]),
        (13.0, ["1", "3"]),
        (7.0, ["4"]),
    ]
    assert [len(b) for _, b in batches(rows(None, 13.0, 2.0), override=4.0, batch_size=8)] == [3]


def test_select_rows_applies_start_end_then_limit():
    chosen = select_rows(rows(*[None] * 10), start=2, end=8, limit=3)
    assert [r.case_number for r in chosen] == ["2", "3", "4"]


def test_merge_keeps_rows_with_images_in_prompt_order_and_removes_rank_files(tmp_path):
    def record(case):
        return {"case_number": case, "prompt": case, "seed": "1", "guidance": "7.5", "file": f"{case}.png"}

    for case in "abc":
        (tmp_path / f"{case}.png").write_bytes(b"x")
    write_manifest(tmp_path / "manifest.csv", [record("b")])
    write_manifest(tmp_path / "manifest.0.csv", [record("c")])
    write_manifest(tmp_path / "manifest.1.csv", [record("a"), record("d")])  # d has no image
    merge_manifests(tmp_path, ["a", "b", "c", "d"])
    with (tmp_path / "manifest.csv").open() as handle:
        assert [r["case_number"] for r in csv.DictReader(handle)] == ["a", "b", "c"]
    assert not list(tmp_path.glob("manifest.*.csv"))


def run_generate(world, prompts, out, *extra):
    return main(
        [
            "generate",
            "--pretrained_model_name_or_path",
            str(world),
            "--prompts",
            str(prompts),
            "--output_dir",
            str(out),
            "--num_inference_steps",
            "2",
            *map(str, extra),
        ]
    )


def read_manifest(folder):
    with (folder / "manifest.csv").open() as handle:
        return list(csv.DictReader(handle))


def pixels(path):
    return np.asarray(Image.open(path), dtype=np.int16)


def test_generate_names_images_by_case_writes_the_manifest_and_resumes(smoke_world, tmp_path, capsys):
    (tmp_path / "p.csv").write_text(CSV)
    out = tmp_path / "out"
    assert run_generate(smoke_world, tmp_path / "p.csv", out, "--batch_size", "2") == 0
    assert sorted(p.name for p in out.glob("*.png")) == ["c1.png", "c2.png", "c3.png"]
    assert [(r["case_number"], r["seed"], r["guidance"], r["file"]) for r in read_manifest(out)] == [
        ("c1", "11", "7.5", "c1.png"),  # no guidance in the row: 7.5
        ("c2", "12", "3.0", "c2.png"),  # the row's own
        ("c3", "13", "7.5", "c3.png"),
    ]
    assert json.loads((out / "run.json").read_text())["config"]["num_inference_steps"] == 2
    assert not list(out.glob("*.tmp")) and not list(out.glob("manifest.*.csv"))

    mtimes = {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")}
    assert run_generate(smoke_world, tmp_path / "p.csv", out, "--batch_size", "2") == 0
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")} == mtimes  # nothing regenerated
    assert len(read_manifest(out)) == 3

    (out / "c2.png").unlink()  # a missing image is generated again, the others are kept
    assert run_generate(smoke_world, tmp_path / "p.csv", out, "--limit", "2") == 0
    assert (out / "c2.png").stat().st_mtime_ns > mtimes["c3.png"]
    assert (out / "c1.png").stat().st_mtime_ns == mtimes["c1.png"]
    assert len(read_manifest(out)) == 3  # rows of the earlier, wider run stay listed

    # an image depends on its row's seed only, not on its batch
    alone = tmp_path / "alone"
    assert run_generate(smoke_world, tmp_path / "p.csv", alone, "--batch_size", "1", "--start", "2") == 0
    assert sorted(p.name for p in alone.glob("*.png")) == ["c3.png"]
    assert np.abs(pixels(alone / "c3.png") - pixels(out / "c3.png")).max() <= 1

    capsys.readouterr()
    assert run_generate(smoke_world, tmp_path / "p.csv", out, "--num_inference_steps", "3") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "other settings (num_inference_steps 2 -> 3)" in err


def test_an_erased_unet_or_lora_changes_the_images(smoke_world, tmp_path):
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    (tmp_path / "p.csv").write_text(CSV)
    base = tmp_path / "base"
    assert run_generate(smoke_world, tmp_path / "p.csv", base, "--limit", "1") == 0

    unet = UNet2DConditionModel.from_pretrained(smoke_world / "unet")
    with torch.no_grad():
        unet.conv_out.bias += 0.5
    unet.save_pretrained(tmp_path / "erased" / "unet")  # an erasure's output folder holds unet/ ...
    (tmp_path / "erased" / "bierase.json").write_text('{"weights": "unet"}')  # ... and, once finished, its record
    assert (
        run_generate(smoke_world, tmp_path / "p.csv", tmp_path / "u", "--limit", "1", "--unet", tmp_path / "erased")
        == 0
    )

    torch.manual_seed(0)
    unet = UNet2DConditionModel.from_pretrained(smoke_world / "unet")
    unet.add_adapter(LoraConfig(r=4, target_modules=["to_q", "to_k", "to_v"], init_lora_weights=False))
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    StableDiffusionPipeline.save_lora_weights(
        tmp_path / "lora", unet_lora_layers=layers, weight_name="erased.safetensors"
    )
    lora_file = tmp_path / "lora" / "erased.safetensors"
    assert run_generate(smoke_world, tmp_path / "p.csv", tmp_path / "l", "--limit", "1", "--lora", lora_file) == 0

    reference = pixels(base / "c1.png")
    assert np.abs(pixels(tmp_path / "u" / "c1.png") - reference).max() > 10
    assert np.abs(pixels(tmp_path / "l" / "c1.png") - reference).max() > 10


def test_a_missing_unet_names_the_flag(smoke_world, tmp_path, capsys):
    (tmp_path / "p.csv").write_text(CSV)
    assert run_generate(smoke_world, tmp_path / "p.csv", tmp_path / "o", "--unet", tmp_path / "none") == 2
    assert "--unet" in capsys.readouterr().err and not (tmp_path / "o").exists()  # checked before writing


@dataclass
class FakeState:
    """What ``accelerate.PartialState`` tells a process, for one of ``num_processes`` run one after another."""

    process_index: int
    num_processes: int
    device: str = "cpu"

    @property
    def is_main_process(self):
        return self.process_index == 0

    is_local_main_process = is_main_process

    def wait_for_everyone(self):
        pass


def test_processes_share_the_rows_and_the_main_one_merges_the_manifests(smoke_world, tmp_path):
    (tmp_path / "p.csv").write_text(CSV)
    out = tmp_path / "multi"
    config = GenerationConfig(str(smoke_world), str(tmp_path / "p.csv"), str(out), num_inference_steps=2)
    generate_prompt_set(config, FakeState(1, 2))  # the other process finishes first: its rows only
    assert sorted(p.name for p in out.glob("*.png")) == ["c2.png"]
    assert (out / "manifest.1.csv").is_file() and not (out / "manifest.csv").exists()
    generate_prompt_set(config, FakeState(0, 2))
    assert sorted(p.name for p in out.glob("*.png")) == ["c1.png", "c2.png", "c3.png"]
    assert [r["case_number"] for r in read_manifest(out)] == ["c1", "c2", "c3"]
    assert not list(out.glob("manifest.*.csv"))


def test_ids_that_cannot_name_a_file_are_refused_before_loading(tmp_path, capsys):
    (tmp_path / "p.csv").write_text("case_number,prompt,evaluation_seed\n../x,a,1\n")
    assert run_generate(tmp_path / "no-model", tmp_path / "p.csv", tmp_path / "o") == 2
    assert "cannot name an image file" in capsys.readouterr().err and not (tmp_path / "o").exists()
