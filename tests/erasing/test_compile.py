"""``--dynamo_backend``: accelerate compiles the student, the trainer compiles the teacher alike, and nothing
else changes (the same weights, saved under the UNet's own parameter names)."""

import json
import subprocess
import sys
from pathlib import Path

import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import load_file

WEIGHTS = Path("unet") / "diffusion_pytorch_model.safetensors"

# one process per run: accelerate fixes its dynamo plugin once per process, as it fixes the precision
PROBE = """
import json, sys
import bierase
from accelerate.utils import is_compiled_module
from bierase.erasing.trainer import Trainer

seen = {}
train = Trainer.train
def probed(self, *args, **kwargs):
    seen.update(student=is_compiled_module(self.student), teacher=is_compiled_module(self.teacher))
    return train(self, *args, **kwargs)
Trainer.train = probed
bierase.erase(bierase.BiErasingConfig(**json.loads(sys.argv[1])))
print(json.dumps(seen))
"""


def _erase(config) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(config.to_dict())], check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_compiled_run_compiles_both_unets_and_reaches_the_same_weights(smoke_world, tmp_path, tiny_config):
    # dynamo's "eager" backend traces the UNets into graphs and runs them as traced: no C compiler needed, and
    # any difference from the plain run would be tracing's
    compiled = _erase(tiny_config("bi-erasing", tmp_path / "compiled", dynamo_backend="eager"))
    plain = _erase(tiny_config("bi-erasing", tmp_path / "plain"))
    assert compiled == {"student": True, "teacher": True}
    assert plain == {"student": False, "teacher": False}  # the control: no flag, nothing compiled

    a, b = load_file(tmp_path / "compiled" / WEIGHTS), load_file(tmp_path / "plain" / WEIGHTS)
    assert a.keys() == b.keys()  # no torch.compile prefix in the saved names
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    base = UNet2DConditionModel.from_pretrained(smoke_world / "unet").state_dict()
    assert any(not torch.equal(a[k], base[k]) for k in a)  # the compiled run did train
    UNet2DConditionModel.from_pretrained(tmp_path / "compiled" / "unet")  # loads in plain diffusers
