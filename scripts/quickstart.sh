#!/usr/bin/env bash
# Sets up, trains the quickstart MLP on scikit-learn's digits with the nnviz
# callbacks, then serves TensorBoard with the nnviz tab (Ctrl+C to stop).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
LOGDIR=${LOGDIR:-logs}
PORT=${PORT:-6006}
.venv/bin/python examples/quickstart.py --logdir "$LOGDIR/quickstart"
echo
echo "nnviz tab: http://localhost:$PORT/#nnviz"
echo
exec .venv/bin/tensorboard --logdir "$LOGDIR" --port "$PORT" --bind_all
