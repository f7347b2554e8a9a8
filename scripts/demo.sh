#!/usr/bin/env bash
# Set up a virtual environment (CPU torch wheel) and run the demo: Bi-Erasing on the bundled toy world.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
pip install -q --upgrade pip
pip install -q torch==2.13.0            # the CPU wheel here; on a GPU machine install your own torch first
pip install -q -e .
bierase demo --output_dir "runs/demo-$(date +%Y%m%d-%H%M%S)"
