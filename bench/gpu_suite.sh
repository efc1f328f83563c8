#!/usr/bin/env bash
# Every GPU figure of netspec in one call (see bench/gpu_suite.py for the sections).
#
#   bash bench/gpu_suite.sh --prepare   # here, before the lease: wheels the GPU machine lacks + datasets
#                                       # into .gpu_carry/ (git-ignored through .git/info/exclude)
#   device run, carry [".gpu_carry"], command: bash bench/gpu_suite.sh      # results in $OUT
#   bash bench/gpu_suite.sh --smoke     # CPU dry run at tiny sizes (the test suite runs this)
#
# Anything else is passed to bench/gpu_suite.py (e.g. --sections peak alexnet).
set -euo pipefail
cd "$(dirname "$0")/.."
CARRY=.gpu_carry
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}

if [ "${1:-}" = "--prepare" ]; then
  grep -qx "/$CARRY/" .git/info/exclude 2>/dev/null || echo "/$CARRY/" >> .git/info/exclude
  mkdir -p "$CARRY/wheels" "$CARRY/mnist" "$CARRY/fashion-mnist"
  # The GPU machine (Python 3.12, no registry) has torch, torchvision, yaml, click, matplotlib; not pydantic.
  for wheel in pydantic pydantic-core annotated-types typing-inspection; do
    version=$("$PYTHON" -c "import importlib.metadata as m; print(m.version('$wheel'))")
    "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
      -d "$CARRY/wheels" "$wheel==$version"
  done
  cp ../shared/datasets/mnist/*-ubyte.gz "$CARRY/mnist/"
  cp /usr/share/datasets/fashion-mnist/*-ubyte.gz "$CARRY/fashion-mnist/"
  du -sh "$CARRY"
  exit 0
fi

if [ -d "$CARRY/wheels" ] && ! "$PYTHON" -c "import pydantic" 2>/dev/null; then
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    "$CARRY"/wheels/*.whl
  export PYTHONPATH=/tmp/site:${PYTHONPATH:-}
fi
export PYTHONPATH=$PWD:${PYTHONPATH:-} PYTHONUNBUFFERED=1
exec "$PYTHON" bench/gpu_suite.py "$@"
