"""Which pipeline a folder is, read from model_index.json; what bierase does not run, and adapters made for
another model, refused in one line before any weights load."""

import json

import pytest
from tiny_pipelines import ADAPTER, SD15_WIDTH, save_ip_adapter

from bierase.cli.main import main
from bierase.pipelines import SD, SDXL, pipeline_class_name


@pytest.fixture
def no_weights(monkeypatch):
    """Fails the test if any model's weights start loading (diffusers or transformers)."""
    from diffusers import DiffusionPipeline, ModelMixin
    from transformers import PreTrainedModel

    def refuse(*args, **kwargs):
        raise AssertionError("weights were loaded before the input was checked")

    for cls in (DiffusionPipeline, ModelMixin, PreTrainedModel):
        monkeypatch.setattr(cls, "from_pretrained", classmethod(refuse))


def test_the_class_comes_from_model_index(sdxl_folder, sd2_folder):
    import torch

    from bierase.erasing.model_loading import load_base_pipeline

    assert pipeline_class_name(sdxl_folder) == SDXL and pipeline_class_name(sd2_folder) == SD
    assert type(load_base_pipeline(str(sdxl_folder), torch.device("cpu"))).__name__ == SDXL
    assert type(load_base_pipeline(str(sd2_folder), torch.device("cpu"))).__name__ == SD


def write_index(folder, **index):
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps(index))
    return folder


@pytest.mark.parametrize("kind,message", [
    ("refiner", "is a StableDiffusionXLImg2ImgPipeline, which bierase does not run; an SDXL refiner cannot"),
    ("other", "is a KandinskyV22Pipeline, which bierase does not run; bierase runs StableDiffusionPipeline"),
    ("no text encoder", "is a StableDiffusionXLPipeline without text_encoder; pass a complete SDXL base"),
    ("incomplete", "not a complete StableDiffusionXLPipeline folder (missing text_encoder_2, tokenizer_2)"),
])  # fmt: skip
def test_what_bierase_does_not_run_is_refused_in_one_line(kind, message, tmp_path, capsys, no_weights):
    folder = tmp_path / "model"
    if kind == "refiner":  # SDXL's refiner: the img2img class, the second text encoder only
        write_index(folder, _class_name="StableDiffusionXLImg2ImgPipeline", text_encoder=[None, None],
                    text_encoder_2=["transformers", "CLIPTextModelWithProjection"])  # fmt: skip
    elif kind == "other":
        write_index(folder, _class_name="KandinskyV22Pipeline", unet=["diffusers", "UNet2DConditionModel"])
    elif kind == "no text encoder":
        write_index(folder, _class_name=SDXL, text_encoder=[None, None])
    else:  # an SDXL index whose second encoder was never written
        parts = ("unet", "vae", "text_encoder", "tokenizer", "scheduler")
        write_index(folder, _class_name=SDXL, **{p: ["diffusers", "X"] for p in parts})
        for part in parts:
            (folder / part).mkdir()
    for argv in (
        ["erase", "--method", "esd", "--concept", "nude", "--output_dir", str(tmp_path / "o")],
        ["erase", "--method", "uce", "--concept", "nude", "--output_dir", str(tmp_path / "o")],
        ["generate", "--prompts", "coco_10k", "--output_dir", str(tmp_path / "g")],
    ):
        assert main([*argv, "--pretrained_model_name_or_path", str(folder)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err, err
    assert not (tmp_path / "o").exists() and not (tmp_path / "g").exists()


@pytest.mark.parametrize("base,adapter_width,where", [
    ("sdxl", SD15_WIDTH, ("models", "ip-adapter_sd15.safetensors")),  # SD 1.5's adapter on SDXL (64 wide here)
    ("sd2", 64, ADAPTER["sdxl"]),  # SDXL's adapter on SD 2.x (48 wide here)
])  # fmt: skip
def test_an_ip_adapter_for_another_model_is_refused_before_weights_load(
    base, adapter_width, where, sdxl_folder, sd2_folder, tmp_path, capsys, no_weights
):
    from diffusers import UNet2DConditionModel

    model = {"sdxl": sdxl_folder, "sd2": sd2_folder}[base]
    unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(model / "unet"))
    file = save_ip_adapter(unet, tmp_path.joinpath("adapter", *where), cross_attention_dim=adapter_width)
    capsys.readouterr()  # the saving's progress bar
    code = main(["erase", "--method", "bi-erasing", "--pretrained_model_name_or_path", str(model), "--concept", "nude",
                 "--positive_concept", "clothed", "--mask_source", "none", "--output_dir", str(tmp_path / "o"),
                 "--ip_adapter", str(tmp_path / "adapter"), "--ip_adapter_subfolder", where[0],
                 "--ip_adapter_weight_name", where[1]])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert f"{file} is for a UNet with {adapter_width}-wide cross-attention, this model's is" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("argv,message", [
    (["attack", "--concept", "nudity"], "is a StableDiffusionXLPipeline; the toy-world commands run"),
    (["evaluate", "--benchmark", "toyworld", "--concept", "nudity"], "the toy-world commands run StableDiffusionPipeline"),
])  # fmt: skip
def test_what_does_not_run_on_sdxl_yet_is_refused_before_weights_load(argv, message, sdxl_folder, tmp_path, capsys,
                                                                      no_weights):  # fmt: skip
    code = main([*argv, "--pretrained_model_name_or_path", str(sdxl_folder), "--output_dir", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and message in err, err
    assert not (tmp_path / "o").exists()


def test_help_says_which_pipelines_run_and_what_xattn_and_the_rollout_size_are_on_sdxl(capsys):
    def help_of(*argv):
        with pytest.raises(SystemExit):
            main([*argv, "--help"])
        return " ".join(capsys.readouterr().out.split())

    for method in ("bi-erasing", "esd"):
        text = help_of("erase", "--method", method)
        assert "StableDiffusionXLPipeline (SDXL base; not a refiner)" in text, method
        assert "attn2 of every transformer block" in text.split("--train_method")[1].split("--lora_rank")[0], method
        assert "sample_size (SDXL base: 1024 px, with time ids original = target size = 1024, crop (0, 0))" in text
    assert "SD 1.x, 2.x or SDXL base" in help_of("generate")
    assert "on SDXL one token sequence read by both text encoders, so the pooled embedding is the prefixed" in help_of(
        "attack"
    )
