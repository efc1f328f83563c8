"""The benchmarks' other side: the seeds' hand-written nets and data files that bench/ compares netspec with.

These are correctness checks of what the benchmarks rely on (no timing): the weight loader
follows a spec that concatenates the branches in another order than the seed, and the
synthetic CIFAR-10 files read the same through torchvision (the seed's loader) and
netspec's reader. That every spec computes its twin is tests/specs/test_seed_builds.py.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import torch

import netspec

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

from seed_loops import UncheckedCIFAR10, write_synthetic_cifar  # noqa: E402
from seed_nets import HAND_NETS, load_built_weights  # noqa: E402

SPECS = BENCH.parent / "specs"


def test_googlenet_twin_follows_a_spec_that_concatenates_in_another_order(tmp_path):
    text = (SPECS / "googlenet_mini.yaml").read_text()
    blocks = sorted(re.finditer(r"^( +)(branch3x3|branch5x5):\n(?:\1 +.*\n)+", text, re.MULTILINE),
                    key=lambda match: match.start())
    first, second = blocks
    swapped = (text[:first.start()] + second.group(0) + text[first.end():second.start()] + first.group(0)
               + text[second.end():])
    (tmp_path / "swapped.yaml").write_text(swapped)
    built = netspec.build(tmp_path / "swapped.yaml").eval()
    order = [name for name, _ in built.get_submodule("incep1.0").named_children()]
    assert order.index(second.group(2)) < order.index(first.group(2))  # the two branches changed places
    hand = HAND_NETS["googlenet_mini"]().eval()
    example = torch.randn(2, 1, 28, 28)
    load_built_weights(hand, built, example)
    with torch.no_grad():
        torch.testing.assert_close(hand(example), built(example), rtol=1e-5, atol=1e-5)


def test_synthetic_cifar_reads_the_same_through_torchvision_and_netspec(tmp_path):
    from netspec.training.data import load_dataset

    folder = write_synthetic_cifar(tmp_path, train_images=25, test_images=7)
    seed_view = UncheckedCIFAR10(str(folder), train=True, download=False)
    ours = load_dataset("cifar10", folder / "cifar-10-batches-py", download=False)
    assert len(seed_view) == len(ours.train_labels) == 25 and len(ours.test_labels) == 7
    assert torch.equal(torch.from_numpy(seed_view.data), ours.train_images.permute(0, 2, 3, 1))
    assert seed_view.targets == ours.train_labels.tolist()
