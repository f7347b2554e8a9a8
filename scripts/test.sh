#!/usr/bin/env bash
# Set up a virtual environment (CPU torch wheel) and run the linters and tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
pip install -q --upgrade pip
pip install -q torch==2.13.0            # the CPU wheel here; on a GPU machine install your own torch first
pip install -q -e ".[test]"
if [ -n "${CI:-}" ] && ! command -v chromium >/dev/null && command -v apt-get >/dev/null; then
    # the report's browser test needs a real headless browser; elsewhere it is skipped when missing
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
ruff check .
ruff format --check .
python -m pytest -q "$@"
