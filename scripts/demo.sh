#!/usr/bin/env bash
# Set up a virtual environment (CPU torch wheel) and run the demo on the bundled toy world.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
pip install -q --upgrade pip
pip install -q torch==2.13.0
pip install -q -e .
bierase toyworld generate --output_dir "runs/demo-$(date +%Y%m%d-%H%M%S)" \
  --prompt "a red striped star on a black background" --prompt "a blue dotted circle" --prompt "a sensual square"
