"""The README's training, export and filters commands run as written; every file they read exists or is made.

Scope: the bash blocks of the sections "Training" and "Export, graphs and filters" (other sections' commands
read files the reader writes by hand, or need GPUs; their own tests cover them)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from netspec.cli import cli

from .conftest import MNIST_SAMPLE, REPO

RUN_COMMANDS = ("train", "eval", "predict", "export", "filters")
SECTIONS = ("Training: `netspec train`", "Export, graphs and filters")
# the fine-tuning example downloads torchvision's weights (tests/training/test_transfer.py covers it offline)
ONLINE_ONLY = ("resnet18.pth",)


def readme_commands() -> list[list[str]]:
    """Every `netspec ...` line of those sections' bash blocks, continuation lines joined, comments dropped."""
    sections = re.split(r"\n## ", (REPO / "README.md").read_text())
    text = "\n".join(section for section in sections if section.startswith(SECTIONS))
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["netspec"]:
                commands.append(words[1:])
    return commands


def runnable() -> list[list[str]]:
    return [words for words in readme_commands()
            if words[0] in RUN_COMMANDS and not any(name in words for name in ONLINE_ONLY)
            and "--nproc-per-node" not in words and "photos/" not in words]


def test_every_run_folder_a_command_reads_is_written_by_a_train_command_before_it():
    written = set()
    for words in readme_commands():
        if words[0] == "train":
            spec = Path(words[1]).stem
            written.add(words[words.index("--out") + 1] if "--out" in words else f"runs/{spec}")
        for word in words:
            folder = re.match(r"(runs/[^/]+)/", word)
            if folder and words[0] != "train":
                assert folder.group(1) in written, f"`netspec {' '.join(words)}` reads {word}: no train writes it"


def test_every_spec_and_image_a_command_reads_exists():
    for words in runnable():
        for word in words:
            if re.search(r"\.(yaml|png|jpg)$", word) and not word.startswith("runs/") and \
                    words[words.index(word) - 1] not in ("-o", "--output"):
                assert (REPO / word).is_file(), f"`netspec {' '.join(words)}` reads {word}, which does not exist"


def test_export_without_weights_is_refused_unless_asked_for(tmp_path):
    refused = CliRunner().invoke(cli, ["export", str(REPO / "specs/lenet_cifar.yaml"), "-o", str(tmp_path / "l.onnx")])
    assert refused.exit_code == 2 and "pass --checkpoint FILE" in refused.output
    assert "--random-weights" in refused.output
    assert not (tmp_path / "l.onnx").exists()
    both = CliRunner().invoke(cli, ["export", str(REPO / "specs/lenet_cifar.yaml"), "--random-weights", "--checkpoint",
                                    str(tmp_path / "c.pt"), "-o", str(tmp_path / "l.pt")])
    assert both.exit_code == 2 and "not both" in both.output
    chosen = CliRunner().invoke(cli, ["export", str(REPO / "specs/lenet_cifar.yaml"), "--random-weights", "-o",
                                      str(tmp_path / "l.pt")])
    assert chosen.exit_code == 0, chosen.output


@pytest.mark.slow
def test_the_readme_commands_run_as_written(tmp_path, monkeypatch):
    """In a scratch folder beside a `shared/datasets/mnist` (the committed sample), so ../shared resolves."""
    work = tmp_path / "work"
    work.mkdir()
    for name in ("specs", "docs"):
        (work / name).symlink_to(REPO / name)
    (tmp_path / "shared" / "datasets").mkdir(parents=True)
    (tmp_path / "shared" / "datasets" / "mnist").symlink_to(MNIST_SAMPLE)
    monkeypatch.chdir(work)
    monkeypatch.setenv("NETSPEC_DATA", str(tmp_path / "cache"))
    commands = runnable()
    assert [words[0] for words in commands][:3] == ["train", "eval", "predict"]
    for words in commands:
        result = CliRunner().invoke(cli, words + (["--no-download"] if words[0] in ("train", "eval") else []))
        assert result.exit_code == 0, f"netspec {' '.join(words)}\n{result.output}"
    assert (work / "resnet_mini.onnx").is_file() and (work / "filters.png").is_file()


def test_eval_reads_the_runs_dataset_and_data_dir_from_the_checkpoint(trained_run):
    result = CliRunner().invoke(cli, ["eval", str(REPO / "specs/resnet_mini.yaml"), str(trained_run.checkpoint),
                                      "--no-download"])  # offline: a download attempt would fail
    assert result.exit_code == 0, result.output
    assert f"test accuracy {trained_run.test_acc:.2%} on 400 images" in result.output
