"""`netspec check --sweep`: one row per grid point, invalid and over-budget points marked, no torch."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

import netspec
from netspec.cli import cli

ROOT = Path(__file__).resolve().parents[2]
FAMILY = str(ROOT / "examples" / "resnet_family.yaml")
RESNET50 = str(ROOT / "examples" / "resnet50_family.yaml")
GRID = ["--sweep", "width=0,8,16", "--sweep", "depth=1,2,3"]


def run(*args: str):
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def test_a_3x3_grid_prints_9_rows_and_marks_the_invalid_points_with_their_error():
    result = run("check", FAMILY, *GRID)
    assert result.exit_code == 1  # some points are not ok
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["width", "depth", "output", "params", "MACs", "train", "mem", "@1", "status"]
    rows = lines[1:10]
    assert len(rows) == 9 and lines[10] == "9 points: 6 ok, 3 not"
    for row, (width, depth) in zip(rows, [(w, d) for w in (0, 8, 16) for d in (1, 2, 3)]):
        assert row.split()[:2] == [str(width), str(depth)]
        if width == 0:
            assert row.split()[2:6] == ["-"] * 4
            assert row.endswith("error: <--sweep width=0>:1:15: out_channels: expected greater than or equal to 1; "
                                f"got 0 (at {FAMILY}:18:45, `width` with --sweep width=0)")
        else:
            report = netspec.check(FAMILY, overrides={"width": width, "depth": depth})
            assert row.split()[2:5] == ["(10,)", f"{report.params:,}", f"{report.macs:,}"] and row.endswith("ok")


def test_json_and_csv_rows_carry_the_same_figures_as_check():
    data = json.loads(run("check", FAMILY, *GRID, "--json", "--batch", "32").stdout)
    assert len(data) == 9 and [row["status"] for row in data].count("error") == 3
    report = netspec.check(FAMILY, overrides={"width": 16, "depth": 3}, batch_size=32)
    assert data[-1] == {"width": 16, "depth": 3, "output": [10], "params": report.params, "macs": report.macs,
                        "training_memory_bytes": report.training_memory_bytes(), "status": "ok", "error": None}
    rows = list(csv.DictReader(io.StringIO(run("check", FAMILY, *GRID, "--csv").stdout)))
    assert len(rows) == 9 and rows[0]["error"].startswith("<--sweep width=0>:1:15:") and rows[4]["output"] == "10"


def test_budgets_mark_the_points_over_them_and_the_plot_shows_them(tmp_path):
    picture = tmp_path / "sweep.png"
    result = run("check", RESNET50, "--sweep", "width=32,64", "--sweep", "d3=2,6", "--max-params", "22000000",
                 "--max-macs", "3500000000", "--plot", picture)
    statuses = [line.split("  ")[-1] for line in result.stdout.splitlines()[1:5]]
    assert statuses[:2] == ["ok", "ok"]  # width 32
    assert statuses[2] == "ok"  # width 64, d3 2: 21.1 M params, 3.2 G MACs
    assert statuses[3] == ("over budget: expected at most 22,000,000 parameters; got 25,557,032; expected at most "
                           "3,500,000,000 MACs per sample; got 4,089,184,256")
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"wrote {picture}" in result.stderr


def test_every_scale_at_once():
    rows = netspec.sweep(FAMILY, [], all_scales=True).rows
    assert [row.point for row in rows] == [{"scale": name} for name in ("n", "s", "m", "l")]
    assert all(row.status == "ok" for row in rows)
    assert [row.report.params for row in rows] == [netspec.check(f"{FAMILY}@{name}").params for name in "nsml"]
    crossed = netspec.sweep(FAMILY, ["scale=n,s", "num_classes=2,3"], overrides=["train.lr=0.2"]).rows
    assert [(row.point, row.report.graph.output_shape) for row in crossed][1] == ({"scale": "n", "num_classes": 3},
                                                                                  (3,))


def test_a_bad_axis_stops_the_sweep_with_one_located_error():
    result = run("check", FAMILY, "--sweep", "widht=1,2")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "<--sweep widht=1>:1:9: error: 'widht' is not one of the spec's params"
    assert f"{FAMILY}: nothing swept" in result.stderr
    assert run("check", FAMILY, "--sweep", "width=").stderr.startswith(
        "<--sweep width=>:1:9: error: --sweep: expected NAME=V1,V2,...; got 'width='")


def test_sweeping_never_imports_torch_and_plotting_alone_imports_matplotlib():
    script = ("import sys; sys.modules['torch'] = None\n"
              f"sys.argv = ['netspec', 'check', {FAMILY!r}, '--sweep', 'width=8,16', '--json']\n"
              "from netspec.cli import main\n"
              "try:\n    main()\nexcept SystemExit as stop:\n"
              "    assert 'matplotlib' not in sys.modules\n    raise\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 2
