"""Many concepts in one run: each sample trains a drawn concept, with its own text and its own reference images
(made for every concept in one generation pass); one concept keeps its random stream; bad lists are refused."""

import json

import pytest
import torch

import bierase
from bierase.cli.main import main
from bierase.errors import UserError
from bierase.methods.bi_erasing.objective import objective

CONCEPTS = ["nude", "red", "star"]


def test_each_sample_trains_its_drawn_concept_with_its_text_and_its_images(smoke_world, tmp_path, tiny_config,
                                                                          make_trainer):  # fmt: skip
    from bierase.toyworld import load_pipeline

    pipe = load_pipeline(smoke_world, ip_adapter=True)
    cfg = tiny_config("bi-erasing", tmp_path, concept=CONCEPTS, positive_concept="clothed", train_batch_size=8)
    trainer, texts = make_trainer(pipe, cfg, objective(cfg))
    dim = trainer.image_dim
    # three images per concept in the negative set, one shared positive set
    trainer.image_sets.embeds["negative"] = torch.randn(9, dim)
    trainer.image_sets.parts["negative"] = [(0, 3), (3, 3), (6, 3)]
    seen = set()
    for _ in range(20):
        batch = trainer.draw()
        seen |= set(batch.concepts.tolist())
        assert torch.equal(trainer._text("concept", batch), texts["concept"][batch.concepts])
        assert torch.equal(trainer._text("positive", batch), texts["positive"].expand(8, -1, -1))
        for i, c in enumerate(batch.concepts.tolist()):  # the drawn image is one of the sample's concept's
            assert any(
                torch.equal(batch.images["negative"][i], e)
                for e in trainer.image_sets.embeds["negative"][3 * c : 3 * c + 3]
            )
    assert seen == {0, 1, 2}


def test_one_concept_draws_no_concept(smoke_world, tmp_path, tiny_config, make_trainer):
    from bierase.toyworld import load_pipeline

    cfg = tiny_config("esd", tmp_path)
    trainer, _ = make_trainer(load_pipeline(smoke_world), cfg, [])
    assert trainer.draw().concepts is None  # its random stream is the one-concept run's of before


def test_a_run_erases_every_concept_and_makes_each_ones_references(tmp_path, tiny_config):
    out = bierase.erase(tiny_config("bi-erasing", tmp_path / "o", concept=CONCEPTS, positive_concept="clothed",
                                    max_train_steps=3))  # fmt: skip
    run = json.loads((out / "bierase.json").read_text())
    assert run["concept"] == CONCEPTS and run["positive_concept"] == ["clothed"]
    assert run["references"]["negative"]["images"] == [2, 2, 2] and run["references"]["positive"]["images"] == [2]
    lines = (out / "references" / "negative" / "manifest.jsonl").read_text().splitlines()
    manifest = [json.loads(line) for line in lines]
    assert [m["prompt"] for m in manifest] == ["a photo of nude", "a photo of nude", "a photo of red", "a photo of red",
                                               "a photo of star", "a photo of star"]  # fmt: skip
    assert len({m["seed"] for m in manifest}) == 6  # every image its own seed
    assert len(list((out / "references" / "negative_masks").glob("*.png"))) == 6
    uce = bierase.erase(tiny_config("uce", tmp_path / "uce", concept=CONCEPTS))
    assert json.loads((uce / "bierase.json").read_text())["concept"] == CONCEPTS


@pytest.mark.parametrize("options,message", [
    (dict(concept=["nude", "red", "nude"]), "--concept names 'nude' more than once"),
    (dict(concept=["nude", " "]), "--concept .* has an empty item"),
    (dict(concept=["nude", "red"], preserve_prompts=["red"]), "'red' is both erased .* and kept"),
    (dict(concept=["nude", "red", "star"], positive_concept=["a", "b"]), "--positive_concept gives 2 for 3 concept"),
    (dict(concept=["nude", "red"], negative_images=["x"]), "--negative_images gives 1 for 2 concept"),
])  # fmt: skip
def test_a_bad_list_is_one_line_before_any_model_loads(options, message, tiny_config, tmp_path):
    with pytest.raises(UserError, match=message):
        tiny_config("bi-erasing", tmp_path / "o", **options)


def test_lists_come_from_the_command_line_and_yaml(smoke_world, tmp_path, capsys):
    (tmp_path / "c.yaml").write_text("concept: [nude, red]\npositive_concept: clothed\n")
    from bierase.cli.dataclass_args import config_from_args
    from bierase.cli.main import build_parser
    from bierase.methods.registry import config_class

    for argv in (["erase", "--concept", "nude", "red", "--positive_concept", "clothed"],
                 ["erase", "--config", str(tmp_path / "c.yaml")]):  # fmt: skip
        args = build_parser(argv).parse_args(argv)
        config = config_from_args(config_class("bi-erasing"), args, "bi-erasing")
        assert config.concept == ["nude", "red"] and config.positive_concept == ["clothed"]
    code = main(["erase", "--method", "esd", "--pretrained_model_name_or_path", str(smoke_world), "--concept", "nude",
                 "nude", "--output_dir", str(tmp_path / "o")])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and "more than once" in err and len(err.splitlines()) == 1 and not (tmp_path / "o").exists()
    with pytest.raises(UserError, match="one concept per run"):
        config_class("co-erasing")(concept=["nude", "red"], text_guided_refinement=True)
