"""Atomic writes: a failure mid-write (full disk, a kill) never damages the previous checkpoint; old formats,
incomplete checkpoints and pickled Python objects are refused; files follow the umask; a killed save's
temporary file is removed by the next save or run."""

from __future__ import annotations

import os
import pickle

import pytest
import torch

from netspec.training.checkpoint import (FORMAT, REQUIRED_KEYS, REQUIRED_SETTINGS, VERSION, check_writable,
                                         load_checkpoint, save_checkpoint, write_atomically)
from netspec.training.errors import CheckpointError, TrainError


def complete_state(**values) -> dict:
    """A checkpoint state with every key a reader needs (their values do not matter to these tests)."""
    state = {key: 0 for key in REQUIRED_KEYS}
    state.update(settings={key: None for key in REQUIRED_SETTINGS}, model={}, optimizer={}, scheduler={}, rng=[],
                 history=[], classes=[], mean=[], std=[])
    return {**state, **values}


def test_a_write_that_fails_half_way_leaves_the_previous_checkpoint_readable(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, complete_state(epoch=1))

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


@pytest.mark.parametrize("missing", ["settings", "mean", "optimizer", "settings.config"])
def test_a_checkpoint_lacking_a_key_says_which(tmp_path, missing):
    state = complete_state()
    if missing.startswith("settings."):
        del state["settings"][missing.partition(".")[2]]
    else:
        del state[missing]
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, state)
    with pytest.raises(CheckpointError, match=f"expected a complete netspec checkpoint; it lacks {missing}\n"):
        load_checkpoint(path)


def test_a_checkpoint_entry_of_the_wrong_type_is_named(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, complete_state(model=[1, 2], mean="grey"))
    with pytest.raises(CheckpointError, match=r"wrong type: model \(a dict, got a list\), mean \(a list, got a str\)"):
        load_checkpoint(path)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_a_pickled_python_object_is_refused_as_such_not_as_corrupt(tmp_path):
    path = tmp_path / "checkpoint.pt"
    torch.save({"format": FORMAT, "version": VERSION, "payload": _RunsCode()}, path)
    with pytest.raises(CheckpointError, match=r"refusing to load: it holds a Python object \((posix|os|nt)\.system\)"):
        load_checkpoint(path)
    for wording in ("Trying to load unsupported GLOBAL posix.system whose module posix is blocked.",
                    "Unsupported global: GLOBAL posix.system was not an allowed global by default."):
        from netspec.training.checkpoint import python_object_in

        assert python_object_in(pickle.UnpicklingError(wording)) == "posix.system"


def test_written_files_follow_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        save_checkpoint(tmp_path / "checkpoint.pt", complete_state())
        write_atomically(tmp_path / "metrics.jsonl", b"{}\n")
        os.umask(0o027)
        write_atomically(tmp_path / "evaluation.json", b"{}")
    finally:
        os.umask(previous)
    modes = {path.name: path.stat().st_mode & 0o777 for path in tmp_path.iterdir()}
    assert modes == {"checkpoint.pt": 0o644, "metrics.jsonl": 0o644, "evaluation.json": 0o640}  # mkstemp: 0o600


def test_a_killed_saves_temporary_file_is_removed_by_the_next_save_and_at_start(tmp_path):
    stale = [tmp_path / ".checkpoint.pt.k3j_9xq2.tmp", tmp_path / ".metrics.jsonl.abcdefgh.tmp"]
    for path in stale:
        path.write_bytes(b"half a checkpoint")
    keep = tmp_path / "notes.tmp"  # not one of ours
    keep.write_text("mine")
    save_checkpoint(tmp_path / "checkpoint.pt", complete_state())
    assert not stale[0].exists() and stale[1].exists()  # a save clears its own file's leftovers
    check_writable(tmp_path)  # the start of a run clears them all
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt", "notes.tmp"]
