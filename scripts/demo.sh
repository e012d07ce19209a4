#!/usr/bin/env bash
# The README's main command: set up (idempotent), then run the end-to-end demo on the shipped defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/unihm demo "$@"
