"""Reference sets: generated resumably with a manifest, or read from a user's folder."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from bierase.errors import UserError
from bierase.references import (
    DEFAULT_TEMPLATES,
    concept_prompts,
    generate_reference_set,
    load_reference_folder,
    read_manifest,
)
from bierase.sampling import SamplingConfig

SAMPLING = SamplingConfig(num_inference_steps=1, batch_size=2)


class FakePipe:
    """Stands in for a diffusers pipeline: each image's colour is its seed, and every call is recorded."""

    device = torch.device("cpu")

    def __init__(self, fail_on_call: int | None = None):
        self.calls: list[list[str]] = []
        self.fail_on_call = fail_on_call

    def __call__(self, prompts, generator, output_type, **kwargs):
        self.calls.append(list(prompts))
        if self.fail_on_call == len(self.calls):
            raise KeyboardInterrupt  # an interrupted run
        images = np.stack([np.full((8, 8, 3), g.initial_seed() / 255, np.float32) for g in generator])
        return SimpleNamespace(images=images)


def manifest_lines(folder):
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]


def test_concept_prompts_cycle_templates_with_consecutive_seeds():
    prompts, seeds = concept_prompts(["a {concept}", "the {concept} here"], "cat", 3, 10)
    assert prompts == ["a cat", "the cat here", "a cat"]
    assert seeds == [10, 11, 12]
    assert concept_prompts(DEFAULT_TEMPLATES, "dog", 1, 0) == (["a photo of dog"], [0])


@pytest.mark.parametrize("templates, n", [(["a {thing}"], 2), ([], 2), (["a {concept}"], 0)])
def test_concept_prompts_reject_bad_templates_and_counts(templates, n):
    with pytest.raises(UserError):
        concept_prompts(templates, "cat", n, 0)


def test_generation_writes_images_and_manifest(tmp_path):
    pipe = FakePipe()
    refs = generate_reference_set(pipe, ["a", "b", "c"], [1, 2, 3], tmp_path, SAMPLING)
    assert refs.names == ["00000.png", "00001.png", "00002.png"]
    assert [int(image[0, 0, 0]) for image in refs.images] == [1, 2, 3]
    assert (refs.prompts, refs.seeds) == (["a", "b", "c"], [1, 2, 3])
    assert pipe.calls == [["a", "b"], ["c"]]  # batched by SamplingConfig.batch_size
    assert manifest_lines(tmp_path) == [
        {"image": "00000.png", "prompt": "a", "seed": 1},
        {"image": "00001.png", "prompt": "b", "seed": 2},
        {"image": "00002.png", "prompt": "c", "seed": 3},
    ]
    assert np.asarray(Image.open(tmp_path / "00002.png"))[0, 0, 0] == 3


def test_a_second_call_with_more_seeds_generates_only_the_new_ones(tmp_path):
    generate_reference_set(FakePipe(), ["a", "b"], [1, 2], tmp_path, SAMPLING)
    pipe = FakePipe()
    refs = generate_reference_set(pipe, ["a", "b", "c", "d"], [1, 2, 3, 4], tmp_path, SAMPLING)
    assert pipe.calls == [["c", "d"]]
    assert len(refs) == 4 and [int(image[0, 0, 0]) for image in refs.images] == [1, 2, 3, 4]
    assert len(manifest_lines(tmp_path)) == 4


def test_an_interrupted_run_resumes_after_its_last_finished_batch(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        generate_reference_set(FakePipe(fail_on_call=2), list("abcde"), [1, 2, 3, 4, 5], tmp_path, SAMPLING)
    assert sorted(read_manifest(tmp_path)) == ["00000.png", "00001.png"]
    pipe = FakePipe()
    generate_reference_set(pipe, list("abcde"), [1, 2, 3, 4, 5], tmp_path, SAMPLING)
    assert pipe.calls == [["c", "d"], ["e"]]


def test_an_image_listed_but_missing_on_disk_is_generated_again(tmp_path):
    generate_reference_set(FakePipe(), ["a", "b"], [1, 2], tmp_path, SAMPLING)
    (tmp_path / "00001.png").unlink()
    pipe = FakePipe()
    generate_reference_set(pipe, ["a", "b"], [1, 2], tmp_path, SAMPLING)
    assert pipe.calls == [["b"]]


def test_a_folder_holding_a_different_set_is_refused(tmp_path):
    generate_reference_set(FakePipe(), ["a", "b"], [1, 2], tmp_path, SAMPLING)
    with pytest.raises(UserError, match="different reference set.*new folder"):
        generate_reference_set(FakePipe(), ["a", "b"], [1, 99], tmp_path, SAMPLING)


def test_a_users_folder_loads_in_name_order_with_manifest_values(tmp_path):
    Image.fromarray(np.zeros((4, 6, 3), np.uint8)).save(tmp_path / "b.png")
    Image.fromarray(np.full((5, 5), 200, np.uint8)).save(tmp_path / "a.jpg")  # grayscale -> RGB
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "manifest.jsonl").write_text(json.dumps({"image": "b.png", "prompt": "p", "seed": 7}) + "\n")
    refs = load_reference_folder(tmp_path)
    assert refs.names == ["a.jpg", "b.png"]
    assert [image.shape for image in refs.images] == [(5, 5, 3), (4, 6, 3)]
    assert refs.images[0].dtype == np.uint8
    assert (refs.prompts, refs.seeds) == ([None, "p"], [None, 7])


def test_unreadable_images_are_skipped_with_one_warning_naming_them(tmp_path):
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "good.png")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.warns(UserWarning, match="2 unreadable.*broken.png, empty.jpg") as record:
        refs = load_reference_folder(tmp_path)
    assert len(record) == 1
    assert refs.names == ["good.png"]


def test_missing_empty_or_all_unreadable_folders_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_reference_folder(tmp_path / "nope")
    with pytest.raises(UserError, match="holds no images"):
        load_reference_folder(tmp_path)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(UserError, match="could be read"):
        load_reference_folder(tmp_path)
