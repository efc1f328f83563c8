"""Atomic writes: a failure mid-write (full disk, a kill) never damages the previous checkpoint; old formats are refused."""

from __future__ import annotations

import pytest
import torch

from netspec.training.checkpoint import FORMAT, VERSION, load_checkpoint, save_checkpoint, write_atomically
from netspec.training.errors import CheckpointError, TrainError


def test_a_write_that_fails_half_way_leaves_the_previous_checkpoint_readable(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"epoch": 1})

    def disk_full_half_way(file):
        file.write(path.read_bytes()[:100])
        raise OSError(28, "No space left on device")

    with pytest.raises(TrainError, match=f"cannot write {path}: No space left on device"):
        write_atomically(path, disk_full_half_way)
    assert load_checkpoint(path)["epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]  # no temporary file left behind


def test_a_checkpoint_of_another_format_version_is_refused_naming_both(tmp_path):
    path = tmp_path / "old.pt"
    torch.save({"format": FORMAT, "version": VERSION - 1, "epoch": 1}, path)
    with pytest.raises(CheckpointError, match=f"expected checkpoint format version {VERSION}; got {VERSION - 1}"):
        load_checkpoint(path)
