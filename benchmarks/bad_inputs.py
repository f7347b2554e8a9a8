"""Bad inputs and faults, tried as a user would, on the bundled toy world: each command, its exit status, the
message it ends with, and whether anything already on disk was lost. Also the kill -9 and ``--resume``
check (byte-identical weights) and a resume with a lower learning rate (other weights than without).

    python benchmarks/bad_inputs.py        # about 10 minutes on 2 CPU cores; writes results/bad_inputs.json
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from common import parser, write

from bierase.benchmark.plan import method_defaults
from bierase.toyworld import model_path
from bierase.toyworld.vocabulary import SCENARIOS

WORLD = str(model_path())
ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def bierase(*words: str) -> tuple[int, str]:
    """Exit status and what bierase said: its one-line error (or a traceback's last line), or on success its
    last line of output and any warning of its own."""
    done = subprocess.run([sys.executable, "-m", "bierase.cli.main", *map(str, words)], env=ENV,
                          capture_output=True, text=True)  # fmt: skip
    errors = [line for line in done.stderr.splitlines() if line.strip() and "it/s" not in line and "%|" not in line]
    if done.returncode:
        return done.returncode, errors[-1] if errors else ""
    own = [line for line in errors if line.startswith(("the toy world", "--overwrite:"))]
    return 0, " | ".join([*own, *done.stdout.strip().splitlines()[-1:]])


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with a hash of its bytes."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()[:16]
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def weights(run: Path) -> str:
    return hashlib.sha256((run / "unet" / "diffusion_pytorch_model.safetensors").read_bytes()).hexdigest()[:16]


class Cases:
    def __init__(self, root: Path) -> None:
        self.root, self.rows = root, []

    def run(self, case: str, words: list, watch: Path | None = None, expect_kept: bool = True) -> tuple[int, str]:
        """Run ``bierase words``; record the case with whether ``watch`` (a folder) kept every file it had."""
        before = snapshot(watch) if watch else {}
        code, message = bierase(*words)
        after = snapshot(watch) if watch else {}
        kept = all(after.get(k) == v for k, v in before.items())
        shown = " ".join(str(w).replace(str(self.root), "$TMP").replace(WORLD, "$WORLD") for w in words)
        self.rows.append({"case": case, "command": f"bierase {shown}", "rc": code,
                          "message": message.replace(str(self.root), "$TMP").replace(WORLD, "$WORLD"),
                          "nothing_lost": kept if watch else None})  # fmt: skip
        print(f"[{code}] {case}: {self.rows[-1]['message']}")
        return code, message


def tiny_yaml(root: Path, name: str, **overrides) -> Path:
    """The demo's Bi-Erasing settings, with 4 references and 4 steps, as a YAML file."""
    options = method_defaults("bi-erasing", SCENARIOS["nudity"], 4, 4)
    options.update({"pretrained_model_name_or_path": WORLD, "checkpointing_steps": 2, **overrides})
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(options))
    return path


def main() -> None:
    parser(__doc__.splitlines()[0]).parse_args()
    figures: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        c = Cases(root)
        base = tiny_yaml(root, "base")
        erase = ["erase", "--config", base]

        # 1. destroyed models are not saved as a success
        c.run("lr 100, 3 steps", [*erase, "--learning_rate", "100", "--max_train_steps", "3",
                                           "--output_dir", root / "lr100"])  # fmt: skip
        figures["lr100_saved_unet"] = (root / "lr100" / "unet").exists()
        c.run("lr 1.0: the loss jumps", [*erase, "--learning_rate", "1.0", "--output_dir", root / "lr1"])
        # 2. resume: refused options, a new learning rate applied and recorded
        run = root / "run"
        c.run("a first run (2 of 4 steps)", [*erase, "--max_train_steps", "2", "--output_dir", run])
        c.run("resume with another concept", [*erase, "--resume", "--concept", "a red shape", "--output_dir", run],
              watch=run)  # fmt: skip
        c.run("resume with another seed", [*erase, "--resume", "--seed", "1", "--output_dir", run], watch=run)
        lower = root / "lower"
        c.run("a first run, for the lower rate", [*erase, "--max_train_steps", "2", "--output_dir", lower])
        c.run("resume at a lower learning rate", [*erase, "--resume", "--learning_rate", "1e-5", "--output_dir", lower])
        c.run("resume at the same rate", [*erase, "--resume", "--output_dir", run])
        record = json.loads((lower / "bierase.json").read_text())
        figures["lower_rate_segments"] = [
            (s["from_step"], s["to_step"], s["learning_rate"]) for s in record["segments"]
        ]
        figures["lower_rate_weights_differ"] = weights(lower) != weights(run)
        # 3. overwrite replaces the previous run's files only
        (run / "notes.txt").write_text("mine")
        c.run(
            "LoRA over a full-UNet run, --overwrite", [*erase, "--overwrite", "--lora_rank", "2", "--output_dir", run]
        )
        figures["overwrite_left_old_unet"] = (run / "unet").exists()
        figures["overwrite_kept_notes"] = (run / "notes.txt").read_text() == "mine"
        c.run("generate --unet on the LoRA run", ["generate", "--pretrained_model_name_or_path", WORLD, "--unet", run,
                                                  "--prompts", "coco_10k", "--output_dir", root / "gen"])  # fmt: skip
        # 4. the toy-world evaluation checks its paths first
        started = time.perf_counter()
        c.run("evaluate --benchmark toyworld, bad --unet", ["evaluate", "--benchmark", "toyworld",
              "--pretrained_model_name_or_path", WORLD, "--concept", "nudity", "--unet", root / "nope",
              "--output_dir", root / "eval"])  # fmt: skip
        figures["evaluate_bad_unet_s"] = round(time.perf_counter() - started, 1)
        # 5. values of the wrong type or out of range
        for case, text in [("YAML image_conditioning: \"no\"", 'image_conditioning: "no"\n'),
                           ("YAML learning_rate: \"1e-4\" (a string)", 'learning_rate: "1e-4"\n')]:  # fmt: skip
            bad = root / "bad.yaml"
            bad.write_text(base.read_text() + text)
            c.run(case, ["erase", "--config", bad, "--output_dir", root / "typed"])
        for case, flags in [("--seed beyond 64 bits", ["--seed", str(2**70)]),
                            ("--learning_rate nan", ["--learning_rate", "nan"]),
                            ("--reference_guidance_scale -5", ["--reference_guidance_scale", "-5"]),
                            ("--eta_neg inf", ["--eta_neg", "inf"])]:  # fmt: skip
            c.run(case, [*erase, *flags, "--output_dir", root / "ranged"])
        (root / "file").write_text("x")
        c.run("output folder under a file", [*erase, "--output_dir", root / "file" / "run"], watch=root / "file")
        c.run("output folder not writable", [*erase, "--output_dir", "/sys/bierase-run"])
        (root / "list.json").write_text("[1, 2]")
        c.run("report --metrics given a JSON list", ["report", "--metrics", root / "list.json", "--output_dir",
                                                     root / "report"])  # fmt: skip
        c.run("--lambda_neg 10000 (a large weight)", [*erase, "--lambda_neg", "10000", "--learning_rate", "1e-7",
                                                      "--output_dir", root / "lambda"])  # fmt: skip
        # 6. smaller ones
        (root / "empty").mkdir()
        c.run("an empty reference folder", [*erase, "--negative_images", root / "empty", "--output_dir", root / "e"])
        c.run("evaluate clip without a manifest", ["evaluate", "--images", run / "references" / "negative_masks",
                                                   "--protocol", "clip", "--output_dir", root / "clip"])  # fmt: skip
        failed = root / "failed"
        c.run("a run that fails before its first checkpoint", [*erase, "--learning_rate", "1.0", "--checkpointing_steps",
                                                               "0", "--output_dir", failed])  # fmt: skip
        c.run("... run again without flags", [*erase, "--checkpointing_steps", "0", "--output_dir", failed],
              watch=failed)  # fmt: skip
        c.run("... with --resume", [*erase, "--checkpointing_steps", "0", "--resume", "--output_dir", failed])
        c.run("toy world: an unknown word", ["toyworld", "generate", "--prompt", "a red car", "--num_images", "1",
                                             "--output_dir", root / "car"])  # fmt: skip

        # kill -9 in the middle of a run, then --resume: the weights of an uninterrupted run, byte for byte
        straight, killed = root / "straight", root / "killed"
        long = tiny_yaml(root, "long", max_train_steps=40, checkpointing_steps=10)
        bierase("erase", "--config", long, "--output_dir", straight)
        process = subprocess.Popen([sys.executable, "-m", "bierase.cli.main", "erase", "--config", str(long),
                                    "--output_dir", str(killed)], env=ENV, stderr=subprocess.DEVNULL)  # fmt: skip
        while not (killed / "checkpoints" / "step-000020").is_dir():
            time.sleep(0.2)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        figures["killed_at"] = sorted(p.name for p in (killed / "checkpoints").iterdir())
        bierase("erase", "--config", long, "--resume", "--output_dir", killed)
        figures["kill_and_resume_byte_identical"] = weights(straight) == weights(killed)
        figures["cases"] = c.rows
    write("bad_inputs", figures)
    for row in figures["cases"]:
        print(f"| {row['case']} | `{row['command']}` | {row['rc']} | {row['message']} | {row['nothing_lost']} |")


if __name__ == "__main__":
    main()
