"""``import bierase``: a small documented API, light to import, that runs the whole job."""

import subprocess
import sys

import torch
from diffusers import StableDiffusionPipeline

import bierase


def test_the_api_names_what_the_readme_shows():
    assert set(bierase.__all__) == {"BiErasingConfig", "CoErasingConfig", "ESDConfig", "UCEConfig", "__version__",
                                    "erase", "load_erased"}  # fmt: skip
    from importlib.metadata import version

    assert bierase.__version__ == version("bierase")


def test_importing_bierase_loads_no_torch():
    code = "import sys, bierase; print(sorted({'torch', 'diffusers', 'transformers'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"


def test_erase_then_load_erased_gives_a_pipeline_that_draws_differently(smoke_world, tmp_path, tiny_config):
    out = bierase.erase(tiny_config("esd", tmp_path / "esd"))
    erased = bierase.load_erased(out)
    plain = StableDiffusionPipeline.from_pretrained(smoke_world)
    assert isinstance(erased, StableDiffusionPipeline)
    kwargs = dict(num_inference_steps=2, output_type="np")
    a = plain("a nude star", generator=torch.Generator().manual_seed(0), **kwargs).images
    b = erased("a nude star", generator=torch.Generator().manual_seed(0), **kwargs).images
    assert not (a == b).all()
    lora = bierase.erase(tiny_config("uce", tmp_path / "uce"))
    assert isinstance(bierase.load_erased(lora), StableDiffusionPipeline)
