"""A prompt with words the toy world never learnt is named in a warning, not drawn in silence."""

import logging

from bierase.cli.main import main
from bierase.toyworld.words import is_toy_world, unknown_words, warn_unknown_words


def test_unknown_words_are_the_ones_outside_the_vocabulary():
    assert unknown_words(["a red car", "a blue star , on a black background"]) == ["car"]
    assert unknown_words(["a nude shape", "a sensual star"]) == []


def test_a_toy_world_warns_and_another_model_does_not(smoke_world, tmp_path, caplog):
    assert is_toy_world(smoke_world) and not is_toy_world(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert warn_unknown_words(["a red car"], tmp_path) == []
        assert caplog.text == ""
        assert warn_unknown_words(["a red car"], smoke_world) == ["car"]
    assert "does not know 'car'" in caplog.text


def test_toyworld_generate_names_the_unknown_word(smoke_world, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        code = main(["toyworld", "generate", "--pretrained_model_name_or_path", str(smoke_world), "--prompt",
                     "a red car", "--num_images", "1", "--num_inference_steps", "1", "--output_dir",
                     str(tmp_path / "o")])  # fmt: skip
    assert code == 0 and "does not know 'car'" in caplog.text
