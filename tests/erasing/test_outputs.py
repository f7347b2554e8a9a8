"""What a run leaves: ``--overwrite`` replaces the previous run's own files (never anything else), the
finished-run mark is written last and removed first, and an output folder is read back by what it holds."""

import logging

import pytest

import bierase
from bierase.cli.main import main
from bierase.erasing import trainer as trainer_module
from bierase.erasing.outputs import erased_weights
from bierase.errors import UserError


def test_a_folder_with_another_run_is_refused_and_kept(tmp_path, tiny_config):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not a bierase run .notes.txt.; pass --overwrite"):
        bierase.erase(tiny_config("esd", tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    bierase.erase(tiny_config("esd", tmp_path / "run"))
    with pytest.raises(UserError, match="holds a finished run; pass --resume to continue it, --overwrite"):
        bierase.erase(tiny_config("esd", tmp_path / "run"))


def test_overwrite_replaces_the_previous_runs_files_and_names_the_others(tmp_path, tiny_config, caplog):
    out = tmp_path / "run"
    bierase.erase(tiny_config("esd", out, checkpointing_steps=1))
    (out / "notes.txt").write_text("mine")
    with caplog.at_level(logging.WARNING):
        bierase.erase(tiny_config("esd", out, lora_rank=2, overwrite=True))
    assert not (out / "unet").exists()  # the full-UNet run's weights are gone, not left beside the LoRA
    assert (out / "pytorch_lora_weights.safetensors").is_file() and (out / "notes.txt").read_text() == "mine"
    assert "kept 1 file(s) that are not a run's" in caplog.text and "notes.txt" in caplog.text
    assert erased_weights(out)[0] == "lora"
    assert [p.name for p in (out / "checkpoints").iterdir()] == ["step-000002"]


def test_an_interrupted_overwrite_leaves_no_folder_that_loads(smoke_world, tmp_path, tiny_config, monkeypatch, capsys):
    out = tmp_path / "run"
    bierase.erase(tiny_config("esd", out))
    monkeypatch.setattr(trainer_module.Trainer, "train", lambda self, out, finished=False: 1 / 0)
    with pytest.raises(ZeroDivisionError):  # a crash in the middle of the replacing run
        bierase.erase(tiny_config("esd", out, lora_rank=2, overwrite=True))
    with pytest.raises(UserError, match="holds no finished run"):
        erased_weights(out)
    code = main(["generate", "--pretrained_model_name_or_path", str(smoke_world), "--unet", str(out),
                 "--prompts", "coco_10k", "--output_dir", str(tmp_path / "images")])  # fmt: skip
    assert code == 2 and "holds no finished run" in capsys.readouterr().err


def test_a_resumed_finished_run_stays_loadable_until_its_new_weights_exist(tmp_path, tiny_config, monkeypatch):
    out = tmp_path / "run"
    bierase.erase(tiny_config("esd", out))
    monkeypatch.setattr(trainer_module.Trainer, "train", lambda self, out, finished=False: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        bierase.erase(tiny_config("esd", out, max_train_steps=4, resume=True))
    assert erased_weights(out) == ("unet", out / "unet")  # the finished run's mark and weights are still there


def test_an_output_folder_is_read_by_what_it_holds(tmp_path, tiny_config):
    unet_run = bierase.erase(tiny_config("esd", tmp_path / "unet_run"))
    lora_run = bierase.erase(tiny_config("esd", tmp_path / "lora_run", lora_rank=2))
    assert erased_weights(unet_run) == ("unet", unet_run / "unet")
    assert erased_weights(unet_run / "unet") == ("unet", unet_run / "unet")
    assert erased_weights(lora_run) == ("lora", lora_run / "pytorch_lora_weights.safetensors")
    from bierase.generation import lora_file, unet_folder

    with pytest.raises(UserError, match="holds a LoRA .*pass it with --lora"):
        unet_folder(str(lora_run))
    with pytest.raises(UserError, match="holds an erased UNet, not a LoRA; pass it with --unet"):
        lora_file(str(unet_run))
    with pytest.raises(UserError, match="holds no UNet or LoRA"):
        erased_weights(tmp_path)


@pytest.mark.parametrize("where,message", [("file/sub", "is under the file"), ("file", "is a file")])
def test_an_output_folder_that_cannot_be_a_folder_is_refused_before_loading(tmp_path, tiny_config, where, message):
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match=message):
        bierase.erase(tiny_config("esd", tmp_path / where))
    assert (tmp_path / "file").read_text() == "x"


def test_an_output_folder_that_cannot_be_written_is_refused(tiny_config):
    with pytest.raises(UserError, match="cannot be written"):
        bierase.erase(tiny_config("esd", "/sys/bierase-run"))  # a read-only place even for root
