#!/usr/bin/env bash
# `make run`: the whole pipeline end to end (see lib/pipeline/run.ts). QUICK=1 for small sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
exec ./bin/spark-ts run "$@"
