"""What a `netspec train` process imports, and when (start-up: bench/startup.py measures the cost)."""

from __future__ import annotations

import subprocess
import sys

from .conftest import MNIST_SAMPLE, REPO, SPECS

WATCH = """
import atexit, sys, traceback
importers = []  # the call stack of each first import of matplotlib


class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "matplotlib":
            importers.append([frame.name for frame in traceback.extract_stack()])
        return None


sys.meta_path.insert(0, Watch())
atexit.register(lambda: print("drawers:", [[name for name in stack if name.startswith("plot_")] for stack in importers]))
from netspec.cli import main
main()
"""


def test_a_training_run_imports_matplotlib_only_to_draw_a_picture(tmp_path, subprocess_env):
    arguments = ["train", str(SPECS / "resnet_mini.yaml"), "--dataset", "mnist", "--data-dir", str(MNIST_SAMPLE),
                 "--epochs", "1", "--limit-train", "8", "--limit-test", "8", "--out", str(tmp_path / "run"), "--quiet"]
    result = subprocess.run([sys.executable, "-c", WATCH, *arguments], cwd=REPO, env=subprocess_env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "run" / "curves.png").is_file()
    drawers = result.stdout.splitlines()[-1]
    assert drawers.startswith("drawers: [['plot_"), drawers  # imported once, by the first function that draws
