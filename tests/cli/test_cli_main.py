"""The ``bierase`` entry point: every subcommand's help, one-line errors, a light parser, and the toy-world
subcommands."""

import subprocess
import sys

import pytest

from bierase.cli.main import main

SUBCOMMANDS = [
    [],
    ["erase"],
    ["demo"],
    ["toyworld"],
    ["toyworld", "path"],
    ["toyworld", "build"],
    ["toyworld", "measure"],
    ["toyworld", "generate"],
    ["generate"],
    ["evaluate"],
    ["attack"],
    ["benchmark"],
    ["report"],
]


@pytest.mark.parametrize("words", SUBCOMMANDS)
def test_every_subcommand_has_help(words, capsys):
    with pytest.raises(SystemExit) as stop:
        main([*words, "--help"])
    assert stop.value.code == 0
    assert "usage: bierase" in capsys.readouterr().out


def test_generate_writes_images_grid_and_run_info(smoke_world, tmp_path):
    out = tmp_path / "gen"
    code = main(
        [
            "toyworld",
            "generate",
            "--pretrained_model_name_or_path",
            str(smoke_world),
            "--prompt",
            "a red star",
            "--prompt",
            "a cross",
            "--num_images",
            "2",
            "--num_inference_steps",
            "2",
            "--output_dir",
            str(out),
        ]
    )
    assert code == 0
    assert sorted(p.name for p in out.glob("*.png")) == [
        "0000_seed0.png",
        "0001_seed1.png",
        "0002_seed2.png",
        "0003_seed3.png",
        "grid.png",
    ]
    assert '"prompts"' in (out / "run.json").read_text()


def test_a_missing_model_folder_is_one_line_naming_it(tmp_path, capsys):
    code = main(
        [
            "toyworld",
            "generate",
            "--pretrained_model_name_or_path",
            str(tmp_path / "nope"),
            "--prompt",
            "x",
            "--output_dir",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "nope" in err and "does not exist" in err


def test_a_corrupt_model_folder_is_one_line(smoke_world, tmp_path, capsys):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(smoke_world, broken)
    (broken / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"not safetensors")
    code = main(
        [
            "toyworld",
            "generate",
            "--pretrained_model_name_or_path",
            str(broken),
            "--prompt",
            "x",
            "--output_dir",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "could not load" in err


def test_a_folder_that_is_not_a_pipeline_names_what_is_missing(tmp_path, capsys):
    (tmp_path / "m").mkdir()
    code = main(
        [
            "toyworld",
            "generate",
            "--pretrained_model_name_or_path",
            str(tmp_path / "m"),
            "--prompt",
            "x",
            "--output_dir",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2 and "missing model_index.json" in capsys.readouterr().err


@pytest.mark.parametrize(
    "option,value", [("--num_images", "0"), ("--num_inference_steps", "-1"), ("--guidance_scale", "-2")]
)
def test_out_of_range_options_are_refused_at_parse_time(option, value, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["toyworld", "generate", "--prompt", "x", "--output_dir", str(tmp_path / "o"), option, value])
    assert stop.value.code == 2 and "out of range" in capsys.readouterr().err


def test_a_non_empty_output_folder_is_refused(tmp_path, capsys):
    (tmp_path / "f.txt").write_text("keep")
    with pytest.raises(SystemExit):
        main(["toyworld", "build", "--smoke", "--output_dir", str(tmp_path)])
    assert "not empty" in capsys.readouterr().err and (tmp_path / "f.txt").read_text() == "keep"


def test_building_every_parser_imports_no_torch():
    """``bierase --help`` and each subcommand's parser (each method's, for erase) load no torch, diffusers,
    transformers or accelerate: the heavy imports wait until a command runs."""
    code = (
        "import sys; from bierase.cli.main import build_parser; from bierase.methods.registry import METHODS\n"
        "for m in METHODS: build_parser(['erase', '--method', m])\n"
        "heavy = sorted({'torch', 'diffusers', 'transformers', 'accelerate', 'peft'} & set(sys.modules))\n"
        "print(','.join(heavy))"
    )
    heavy = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert heavy == ""


def test_version_is_the_packages(capsys):
    import bierase

    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"bierase {bierase.__version__}"
