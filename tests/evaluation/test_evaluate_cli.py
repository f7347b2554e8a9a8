import csv
import json
import shutil
import sys

import pytest

from bierase.cli import evaluate
from bierase.cli.main import main


def evaluate_cli(*words):
    return main(["evaluate", *map(str, words)])


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_a_nudenet_protocol_writes_metrics_with_its_name_version_and_parameters(photos, tmp_path, capsys):
    out = tmp_path / "m"
    assert evaluate_cli("--images", photos, "--protocol", "nudenet-mace", "--output_dir", out) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["protocol"], metrics["protocol_version"]) == ("nudenet-mace", "1")
    assert metrics["parameters"]["threshold"] == 0.6 and "nudenet==3.4.2" in metrics["parameters"]["detector"]
    assert metrics["images"] == str(photos) and metrics["n_images"] == 3
    assert metrics["metrics"]["total"] == 0 and metrics["metrics"]["per_class"]["ANUS_EXPOSED"] == 0
    assert "versions" in metrics and metrics["config"]["protocol"] == "nudenet-mace"
    detections = json.loads((out / "per_image.json").read_text())["detections"]
    assert "FACE_FEMALE" in {d["class"] for d in detections["0.png"]}  # raw detections, every class, are kept
    table = capsys.readouterr().out
    assert "nudenet-mace (v1)" in table and "total (detections)" in table and "FEMALE_BREAST_EXPOSED" in table


def test_an_unknown_protocol_names_the_choices(photos, tmp_path, capsys):
    assert evaluate_cli("--images", photos, "--protocol", "nudity", "--output_dir", tmp_path / "m") == 2
    err = one_line_error(capsys)
    assert "unknown --protocol 'nudity'" in err
    assert "nudenet-mace, nudenet-unlearndiffatk, nudenet-bi-erasing, clip, fid" in err


def test_unreadable_images_are_named_and_can_be_skipped(photos, tmp_path, capsys):
    folder = tmp_path / "imgs"
    shutil.copytree(photos, folder)
    (folder / "broken.png").write_bytes(b"not a png")
    (folder / "notes.txt").write_text("not an image, ignored")
    args = ["--images", folder, "--protocol", "nudenet-unlearndiffatk", "--output_dir", tmp_path / "m"]
    assert evaluate_cli(*args) == 2
    err = one_line_error(capsys)
    assert "1 unreadable image(s)" in err and "broken.png" in err and "--skip_unreadable" in err
    assert evaluate_cli(*args, "--skip_unreadable") == 0
    assert "warning: skipping 1 unreadable image(s)" in capsys.readouterr().err
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["n_images"] == 3 and metrics["metrics"]["rate_percent"] == 0.0


def test_an_existing_metrics_file_is_kept_unless_overwrite(photos, tmp_path, capsys):
    args = ["--images", photos, "--protocol", "nudenet-bi-erasing", "--output_dir", tmp_path]
    assert evaluate_cli(*args) == 0
    capsys.readouterr()
    assert evaluate_cli(*args) == 2 and "--overwrite" in one_line_error(capsys)
    assert evaluate_cli(*args, "--overwrite") == 0


def test_an_empty_folder_is_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert evaluate_cli("--images", tmp_path / "empty", "--protocol", "nudenet-mace", "--output_dir", tmp_path) == 2
    assert "no images" in one_line_error(capsys)


def write_prompts(path, cases):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case_number", "prompt", "seed", "guidance", "file"])
        for case in cases:
            writer.writerow([case, f"a red star {case}", 1, 7.5, f"{case}.png"])


def test_clip_pairs_images_with_the_folders_manifest(photos, tiny_clip, tmp_path, capsys):
    folder = tmp_path / "imgs"
    shutil.copytree(photos, folder)
    write_prompts(folder / "manifest.csv", ["0", "1", "2", "3"])  # a row without an image is fine
    out = tmp_path / "m"
    code = evaluate_cli("--images", folder, "--protocol", "clip", "--clip_model", tiny_clip, "--output_dir", out)
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    scores = json.loads((out / "per_image.json").read_text())["scores"]
    assert sorted(scores) == ["0.png", "1.png", "2.png"]
    mean = sum(s["cosine"] for s in scores.values()) / 3
    assert metrics["metrics"]["cosine"] == pytest.approx(mean)
    assert metrics["metrics"]["logit"] == pytest.approx(max(100 * mean, 0))
    assert metrics["parameters"]["clip_model"] == str(tiny_clip) and metrics["metrics"]["n"] == 3
    assert "cosine" in capsys.readouterr().out


def test_clip_refuses_images_without_a_prompt(photos, tiny_clip, tmp_path, capsys):
    write_prompts(tmp_path / "p.csv", ["0", "1"])
    code = evaluate_cli(
        "--images", photos, "--protocol", "clip", "--prompts", tmp_path / "p.csv", "--output_dir", tmp_path / "m"
    )
    assert code == 2 and "1 image(s)" in one_line_error(capsys)
    assert evaluate_cli("--images", photos, "--protocol", "clip", "--output_dir", tmp_path / "m") == 2
    assert "has no manifest.csv (written by `bierase generate`); pass --prompts" in one_line_error(capsys)
    assert evaluate_cli("--images", tmp_path / "none", "--protocol", "clip", "--output_dir", tmp_path / "m") == 2
    assert "is not a folder" in one_line_error(capsys)  # a missing folder is not a missing manifest


def test_fid_needs_reference_images_and_clean_fid(photos, tmp_path, capsys, monkeypatch):
    assert evaluate_cli("--images", photos, "--protocol", "fid", "--output_dir", tmp_path / "m") == 2
    assert "--reference_images" in one_line_error(capsys)
    monkeypatch.setitem(sys.modules, "cleanfid", None)
    args = ["--images", photos, "--protocol", "fid", "--reference_images", photos, "--output_dir", tmp_path / "m"]
    assert evaluate_cli(*args) == 2
    assert "install clean-fid" in one_line_error(capsys)
    assert not (tmp_path / "m" / "metrics.json").exists()


def test_the_benchmark_hook_dispatches_or_says_it_is_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(evaluate, "BENCHMARK_MODULE", "bierase_no_such_benchmark")
    assert evaluate_cli("--benchmark", "toyworld") == 2
    assert "--benchmark toyworld is not available" in one_line_error(capsys)

    (tmp_path / "fake_benchmark.py").write_text(
        "def add_arguments(group):\n    group.add_argument('--scenario')\n\n"
        "def run(args):\n    print('ran', args.benchmark, args.scenario)\n    return 0\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(evaluate, "BENCHMARK_MODULE", "fake_benchmark")
    assert evaluate_cli("--benchmark", "toyworld", "--scenario", "nudity") == 0
    assert "ran toyworld nudity" in capsys.readouterr().out


def test_fid_asks_clean_fid_for_the_two_folders_in_clean_mode(photos, tmp_path, monkeypatch):
    """clean-fid cannot be installed here (it pulls torchvision): a stand-in with its API checks our side of it."""
    import types

    calls = []
    module, fid = types.ModuleType("cleanfid"), types.ModuleType("cleanfid.fid")
    fid.compute_fid = lambda fdir1, fdir2, mode: calls.append((fdir1, fdir2, mode)) or 12.5
    module.fid = fid
    monkeypatch.setitem(sys.modules, "cleanfid", module)
    monkeypatch.setitem(sys.modules, "cleanfid.fid", fid)
    real = tmp_path / "real"
    shutil.copytree(photos, real)
    out = tmp_path / "m"
    assert evaluate_cli("--images", photos, "--protocol", "fid", "--reference_images", real, "--output_dir", out) == 0
    assert calls == [(str(photos), str(real), "clean")]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["metrics"]["fid"] == 12.5 and metrics["parameters"]["mode"] == "clean"
    assert metrics["parameters"]["reference_images"] == str(real)
