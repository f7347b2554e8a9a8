"""``bierase erase``: each method's own options and defaults, one-line refusals, booleans, YAML over flags."""

import pytest

from bierase.cli.dataclass_args import config_from_args
from bierase.cli.main import build_parser, main
from bierase.errors import UserError
from bierase.methods.registry import config_class


def parse(*words: str):
    argv = ["erase", *words]
    args = build_parser(argv).parse_args(argv)
    return config_from_args(config_class(args.method), args, args.method)


def help_of(method: str, capsys) -> str:
    with pytest.raises(SystemExit):
        main(["erase", "--method", method, "--help"])
    return capsys.readouterr().out


def test_each_methods_help_lists_only_its_options_with_its_defaults(capsys):
    esd = help_of("esd", capsys)
    assert "--eta_neg" in esd and "ESD-x (xattn)" in esd and "(default: 'xattn')" in esd
    for foreign in ("--eta_pos", "--mask_source", "--ip_adapter", "--two_stage", "--negative_images",
                    "--text_guided_refinement", "--erase_scale", "--positive_concept"):  # fmt: skip
        assert foreign not in esd, foreign
    bi = help_of("bi-erasing", capsys)
    assert all(flag in bi for flag in ("--eta_pos", "--mask_source", "--positive_concept", "--no_image_conditioning"))
    assert "--text_guided_refinement" not in bi and "--erase_scale" not in bi
    assert "(default: 'full')" in bi and "median of the previous" in bi  # the divergence rule is stated
    co = help_of("co-erasing", capsys)
    assert "--text_guided_refinement" in co and "--eta_pos" not in co and "--positive_images" not in co
    uce = help_of("uce", capsys)
    assert "--erase_scale" in uce and "--learning_rate" not in uce


@pytest.mark.parametrize("method,option,value", [
    ("esd", "--eta_pos", "3"), ("esd", "--mask_source", "none"), ("co-erasing", "--positive_concept", "x"),
    ("bi-erasing", "--text_guided_refinement", "true"), ("uce", "--learning_rate", "1e-3"),
])  # fmt: skip
def test_an_option_of_another_method_is_refused_by_name(method, option, value, tmp_path, capsys):
    code = main(["erase", "--method", method, "--pretrained_model_name_or_path", str(tmp_path), "--concept", "x",
                 "--output_dir", str(tmp_path / "o"), option, value])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert f"{option} is not an option of --method {method}" in err and f"--method {method} --help" in err
    assert not (tmp_path / "o").exists()


def test_true_by_default_booleans_can_be_switched_off():
    default = parse("--concept", "x")
    assert default.image_conditioning and default.batched_calls and default.cache_embeddings
    off = parse("--no_image_conditioning", "--no_batched_calls", "--no_cache_embeddings")
    assert (off.image_conditioning, off.batched_calls, off.cache_embeddings) == (False, False, False)
    assert parse("--image_conditioning", "false").image_conditioning is False
    assert parse("--save_pipeline").save_pipeline is True and parse("--save_pipeline", "no").save_pipeline is False
    with pytest.raises(SystemExit):
        parse("--save_pipeline", "maybe")


def test_a_yaml_config_is_read_and_flags_override_it(tmp_path):
    (tmp_path / "c.yaml").write_text("concept: x\ntrain_method: selfattn\nlearning_rate: -1\n")
    config = parse("--config", str(tmp_path / "c.yaml"), "--learning_rate", "1e-3")
    assert (config.concept, config.train_method, config.learning_rate) == (["x"], "selfattn", 1e-3)  # flag wins
    with pytest.raises(UserError, match="--learning_rate -1.0 is out of range"):
        parse("--config", str(tmp_path / "c.yaml"))  # without the flag the file's value is used, and refused
    (tmp_path / "d.yaml").write_text("concept: x\nlearnig_rate: 1\n")
    with pytest.raises(UserError, match="unknown options learnig_rate"):
        parse("--config", str(tmp_path / "d.yaml"))


def test_a_yaml_value_of_the_wrong_type_is_refused_not_misread(tmp_path):
    def from_yaml(text: str, *flags: str):
        (tmp_path / "c.yaml").write_text(text)
        return parse("--config", str(tmp_path / "c.yaml"), *flags)

    with pytest.raises(UserError, match="--image_conditioning 'no' is not valid; it must be true or false"):
        from_yaml('image_conditioning: "no"\n')
    assert from_yaml("image_conditioning: false\n").image_conditioning is False
    with pytest.raises(UserError, match="--learning_rate '1e-4' is not valid; it must be a number"):
        from_yaml('learning_rate: "1e-4"\n')
    assert from_yaml("learning_rate: 1e-4\n").learning_rate == 1e-4  # YAML 1.2 numbers (PyYAML reads a string)
    assert from_yaml("lambda_neg: 2\n").lambda_neg == 2.0 and isinstance(from_yaml("lambda_neg: 2\n").lambda_neg, float)
    with pytest.raises(UserError, match="--max_train_steps 10.5 is not valid; it must be an integer"):
        from_yaml("max_train_steps: 10.5\n")
    with pytest.raises(UserError, match="--preserve_prompts 'a cat' is not valid; it must be a list"):
        from_yaml("preserve_prompts: a cat\n")
    with pytest.raises(UserError, match="holds options of --method esd; pass --method esd"):
        from_yaml("method: esd\nconcept: x\n")


@pytest.mark.parametrize("flag,value,message", [
    ("--learning_rate", "nan", "--learning_rate nan is out of range; it must be a finite number > 0"),
    ("--eta_neg", "inf", "--eta_neg inf is out of range"),
    ("--seed", str(2**70), f"--seed {2**70} is out of range"),
    ("--seed", "-1", "--seed -1 is out of range"),
    ("--reference_guidance_scale", "-5", "--reference_guidance_scale -5.0 is out of range"),
    ("--mask_threshold", "1.5", "<= 1"),
    ("--train_method", "all", "choose one of full, xattn, noxattn, selfattn"),
])  # fmt: skip
def test_out_of_range_numbers_are_refused_in_one_line_before_anything_loads(flag, value, message, tmp_path, capsys):
    code = main(["erase", "--pretrained_model_name_or_path", str(tmp_path / "none"), "--concept", "x",
                 "--positive_concept", "y", "--output_dir", str(tmp_path / "o"), flag, value])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and message in err, err
    assert not (tmp_path / "o").exists()


def test_erase_names_a_missing_model_folder(tmp_path, capsys):
    code = main(["erase", "--pretrained_model_name_or_path", str(tmp_path / "none"), "--concept", "x",
                 "--positive_concept", "y", "--output_dir", str(tmp_path / "o")])  # fmt: skip
    assert code == 2 and "does not exist" in capsys.readouterr().err
