"""bench/gpu_suite.sh --smoke: the GPU suite's CPU dry run, so the one script a GPU lease runs cannot rot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FASHION = Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")


@pytest.mark.slow
def test_smoke_run_measures_every_section_and_writes_its_results(tmp_path):
    sections = ["peak", "mnist99", "vs_seed", "torchrun", "imagefolder"] + (["alexnet"] if FASHION.exists() else [])
    done = subprocess.run(["bash", "bench/gpu_suite.sh", "--smoke", "--out", str(tmp_path), "--sections", *sections],
                          cwd=REPO, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    text = (tmp_path / "gpu_results.md").read_text()
    assert "FAILED" not in text
    for title in ("Matrix-multiply peak", "MNIST: time to 99.0%", "netspec.train vs seed 003", "torchrun"):
        assert title in text
    results = json.loads((tmp_path / "gpu_results.json").read_text())
    assert results["peak_flops"] > 0
    assert results["vs_seed_ratio"] > 0
    assert results["torchrun"]["rc"] == 0 and results["torchrun"]["backend"] == "gloo"
    assert len(results["mnist99"]["resnet_mini"]["history"]) == 1
    if FASHION.exists():
        assert 0.0 <= results["alexnet"]["test_acc"] <= 1.0 and results["alexnet"]["images_per_second"] > 0
