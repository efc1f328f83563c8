"""The zoo as a user meets it: netspec.zoo, `zoo:NAME` as a spec source, `netspec zoo`, the wheel's package data."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import netspec
from netspec import zoo
from netspec.cli import cli

REPO = Path(__file__).resolve().parents[2]


def test_zoo_names_resolve_to_packaged_files():
    assert "resnet18" in zoo.names()
    assert zoo.resolve("zoo:resnet18") == str(zoo.path("resnet18"))
    assert zoo.path("zoo:resnet18").parent == Path(netspec.__file__).parent / "zoo"
    assert zoo.resolve("specs/alexnet.yaml") == "specs/alexnet.yaml"


def test_zoo_reference_is_a_spec_source():
    report = netspec.check("zoo:resnet18")
    assert report.ok and report.spec.name == "resnet18" and report.params == 11_689_512


def test_unknown_zoo_name_is_a_located_error_with_did_you_mean():
    report = netspec.check("zoo:resnet19")
    (error,) = report.errors
    assert error.code == "file.zoo_unknown" and error.message == "unknown zoo model 'resnet19'"
    assert error.file == "zoo:resnet19"
    assert "did you mean 'zoo:resnet18'?" in error.hint
    with pytest.raises(zoo.UnknownZooModel):
        zoo.path("nope")


def test_cli_lists_prints_and_copies_out(tmp_path):
    runner = CliRunner()
    listing = runner.invoke(cli, ["zoo"])
    assert listing.exit_code == 0
    header, *rows = listing.output.splitlines()
    assert header.split() == ["name", "input", "output", "params", "MACs"]
    assert {row.split()[0] for row in rows} == set(zoo.names())
    assert "resnet18 3x224x224 1000 11,689,512 1,814.1 M".split() in [row.split() for row in rows]
    printed = runner.invoke(cli, ["zoo", "resnet18"])
    assert printed.exit_code == 0 and printed.output == zoo.path("resnet18").read_text()
    copied = runner.invoke(cli, ["zoo", "resnet18", "-o", str(tmp_path / "mine.yaml")])
    assert copied.exit_code == 0 and netspec.check(str(tmp_path / "mine.yaml")).params == 11_689_512
    unknown = runner.invoke(cli, ["zoo", "resnet181"])
    assert unknown.exit_code == 1 and "did you mean 'zoo:resnet18'?" in unknown.output
    assert runner.invoke(cli, ["zoo", "-o", "x.yaml"]).exit_code == 2


def test_check_command_takes_zoo_names():
    result = CliRunner().invoke(cli, ["check", "zoo:resnet18", "--input", "3,64,64"])
    assert result.exit_code == 0 and "resnet18: input (3, 64, 64) -> output (1000,)" in result.output


@pytest.mark.slow
def test_the_wheel_ships_every_zoo_spec(tmp_path):
    source = tmp_path / "source"  # a copy: setuptools writes build/ next to pyproject.toml
    shutil.copytree(REPO / "netspec", source / "netspec", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path)], check=True, cwd=tmp_path)
    (wheel,) = tmp_path.glob("netspec-*.whl")
    shipped = {Path(name).stem for name in zipfile.ZipFile(wheel).namelist() if name.startswith("netspec/zoo/")
               and name.endswith(".yaml")}
    assert shipped == set(zoo.names())


def test_readme_zoo_table_shows_the_checkers_figures():
    """The README's rows equal bench/zoo_lines.py's (torchvision's line counts aside: they follow its version)."""
    sys.path.insert(0, str(REPO / "bench"))
    from zoo_lines import table

    def rows(text: str) -> dict[str, list[str]]:
        return {cells[0]: cells[:-1] for cells in ([c.strip() for c in line.strip("|").split("|")]
                                                   for line in text.splitlines() if line.startswith("| [")
                                                   and "](netspec/zoo/" in line)}

    documented, computed = rows((REPO / "README.md").read_text()), rows(table())
    assert documented == computed
    assert len(computed) == len(zoo.names())


def test_every_command_reads_zoo_names(tmp_path):
    """zoo:NAME is resolved where every spec is read, so graph, export and the Python API take it too."""
    assert netspec.load("zoo:squeezenet1_0").name == "squeezenet1_0"
    graph = CliRunner().invoke(cli, ["graph", "zoo:squeezenet1_0", "-o", str(tmp_path / "squeezenet.mmd")])
    assert graph.exit_code == 0 and "fire9" in (tmp_path / "squeezenet.mmd").read_text()
    exported = CliRunner().invoke(cli, ["export", "zoo:squeezenet1_0", "--format", "python",
                                        "-o", str(tmp_path / "squeezenet.py")])
    assert exported.exit_code == 0 and "class Squeezenet10" in (tmp_path / "squeezenet.py").read_text()


def test_zoo_listing_never_imports_torch():
    """The figures come from the static checker: `netspec zoo` runs where `import torch` fails."""
    script = ("import sys; sys.modules['torch'] = None\n"
              "sys.argv = ['netspec', 'zoo']\nfrom netspec.cli import main\nmain()\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "efficientnet_b0" in result.stdout and "5,288,548" in result.stdout


@pytest.mark.slow
def test_a_zoo_spec_trains_once_its_input_fits_the_dataset(tmp_path):
    """zoo:resnet18 with MNIST's input (1x28x28, 10 classes) set on the command line: one short epoch."""
    result = subprocess.run([sys.executable, "-m", "netspec", "train", "zoo:resnet18", "--set", "image_channels=1",
                             "--set", "image_size=28", "--set", "num_classes=10", "--dataset", "mnist",
                             "--data-dir", str(REPO / "tests" / "data" / "mnist-sample"), "--epochs", "1",
                             "--limit-train", "64", "--limit-test", "32", "--device", "cpu",
                             "--out", str(tmp_path / "run"), "--quiet", "--no-download"],
                            capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "run" / "metrics.jsonl").read_text().count("\n") == 1


# where torchvision's network itself loses input pixels, the zoo spec says so (a true warning, kept)
TRUE_WARNINGS = {"squeezenet1_0": ["H and W do not divide evenly: (224 - 7 + 2*0)/2 + 1 = 109.5 -> 109; "
                                   "PyTorch drops the last 1 pixel(s) of the input"]}


@pytest.mark.parametrize("name", zoo.names())
def test_zoo_specs_check_without_false_warnings(name):
    report = netspec.check(f"zoo:{name}")
    assert report.ok and [d.message for d in report.diagnostics] == TRUE_WARNINGS.get(name, [])


@pytest.mark.parametrize("arguments", [["zoo:resnet18", "--input", "3,32,32"], ["zoo:efficientnet_b0"]])
def test_check_prints_the_table_and_nothing_else(arguments):
    result = subprocess.run([sys.executable, "-m", "netspec", "check", *arguments], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.splitlines()[0].split()[:3] == ["layer", "kind", "output"]
    assert "-> output (1000,)" in result.stdout
