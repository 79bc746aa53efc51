#!/usr/bin/env bash
# Sets up, trains the quickstart MLP on scikit-learn's digits with the nnviz
# callbacks, then serves TensorBoard with the nnviz tab (Ctrl+C to stop).
#
# TensorBoard listens on localhost only. To reach it from other machines
# (everyone who can reach this one can then read the logs), set BIND_ALL=1
# or pass --bind_all; other arguments also go to tensorboard:
#
#   scripts/quickstart.sh                 # http://localhost:6006/#nnviz
#   BIND_ALL=1 scripts/quickstart.sh      # all network interfaces
#   PORT=6007 LOGDIR=/tmp/logs scripts/quickstart.sh --reload_interval 5
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3}
LOGDIR=${LOGDIR:-logs}
PORT=${PORT:-6006}
HOST=localhost
args=("$@")
if [[ "${BIND_ALL:-0}" == 1 ]]; then
  args+=(--bind_all)
fi
for arg in "${args[@]}"; do
  if [[ "$arg" == --bind_all ]]; then
    HOST=$(hostname)
  fi
done
.venv/bin/python examples/quickstart.py --logdir "$LOGDIR/quickstart"
echo
echo "nnviz tab: http://$HOST:$PORT/#nnviz"
echo
exec .venv/bin/tensorboard --logdir "$LOGDIR" --port "$PORT" "${args[@]}"
