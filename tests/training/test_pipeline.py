"""Whole-batch preprocessing: crops, flips, resize and normalisation match their per-image definitions."""

from __future__ import annotations

import torch

from netspec.train_config import Augment
from netspec.training.pipeline import EpochBatches, Preprocess, channel_stats, random_crop
from netspec.training.runtime import Runtime

CPU = Runtime(torch.device("cpu"))


def test_random_crop_cuts_each_padded_image_at_its_own_offset():
    images = torch.arange(4 * 2 * 5 * 5, dtype=torch.float32).view(4, 2, 5, 5)
    generator = torch.Generator().manual_seed(3)
    cropped = random_crop(images, 2, generator)
    offsets = torch.randint(0, 5, (2, 4), generator=torch.Generator().manual_seed(3))
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2))
    for i in range(4):
        top, left = offsets[:, i].tolist()
        assert torch.equal(cropped[i], padded[i, :, top:top + 5, left:left + 5])


def test_flip_resize_and_normalise_as_the_definitions_say():
    images = torch.randint(0, 256, (64, 1, 6, 6), dtype=torch.uint8)
    plain = Preprocess((0.5,), (0.25,))(images)
    assert torch.allclose(plain, (images.float() / 255 - 0.5) / 0.25, atol=1e-5)
    assert plain.is_contiguous(memory_format=torch.channels_last)
    flipped = Preprocess((0.5,), (0.25,), augment=Augment(horizontal_flip=True))(images, torch.Generator().manual_seed(0))
    same = [torch.equal(a, b) for a, b in zip(flipped, plain)]
    mirrored = [torch.equal(a, b.flip(2)) for a, b in zip(flipped, plain)]
    assert all(s or m for s, m in zip(same, mirrored)) and 10 < sum(mirrored) < 54
    resized = Preprocess((0.0,), (1.0,), size=(12, 12))(images)
    assert resized.shape == (64, 1, 12, 12)


def test_channel_stats_of_uint8_images():
    images = torch.tensor([0, 255], dtype=torch.uint8).view(2, 1, 1, 1)
    mean, std = channel_stats(images)
    assert mean == [0.5] and abs(std[0] - 0.5) < 1e-9


def test_channel_stats_match_float64_over_every_pixel():
    images = torch.randint(0, 256, (37, 3, 5, 7), dtype=torch.uint8)
    images[:, 2] = 9  # a constant channel: its std is the floor, not a negative variance's NaN
    mean, std = channel_stats(images)
    pixels = images.double().div(255).transpose(0, 1).reshape(3, -1)
    assert torch.allclose(torch.tensor(mean, dtype=torch.float64), pixels.mean(1), rtol=0, atol=1e-12)
    assert torch.allclose(torch.tensor(std[:2], dtype=torch.float64), pixels[:2].std(1, unbiased=False), atol=1e-12)
    assert std[2] == 1e-6


def test_any_step_of_an_epoch_is_reproduced_when_starting_there():
    images = torch.randint(0, 256, (50, 1, 8, 8), dtype=torch.uint8)
    labels = torch.arange(50)
    prep = Preprocess((0.1,), (0.3,), augment=Augment(random_crop_padding=2, horizontal_flip=True))
    full = list(EpochBatches(images, labels, 8, seed=1, epoch=2, runtime=CPU, preprocess=prep).from_step(0))
    later = list(EpochBatches(images, labels, 8, seed=1, epoch=2, runtime=CPU, preprocess=prep).from_step(4))
    assert len(full) == 7 and [step for step, _, _ in later] == [4, 5, 6]
    for (_, x1, y1), (_, x2, y2) in zip(full[4:], later):
        assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert sorted(torch.cat([y for _, _, y in full]).tolist()) == list(range(50))
    other = next(EpochBatches(images, labels, 8, seed=1, epoch=3, runtime=CPU, preprocess=prep).from_step(0))
    assert not torch.equal(other[2], full[0][2])  # each epoch has its own order


def test_ranks_see_disjoint_shards_that_cover_the_epoch():
    images, labels = torch.zeros(10, 1, 2, 2, dtype=torch.uint8), torch.arange(10)
    seen = [torch.cat([y for _, _, y in EpochBatches(images, labels, 3, 0, 0, Runtime(torch.device("cpu"), rank, 2),
                                                      Preprocess((0.0,), (1.0,))).from_step(0)])
            for rank in (0, 1)]
    assert sorted(torch.cat(seen).tolist()) == list(range(10)) and len(seen[0]) == len(seen[1]) == 5


def test_ranks_share_the_epoch_order_but_draw_their_own_crops_and_flips():
    images = torch.randint(0, 256, (1, 1, 8, 8), dtype=torch.uint8).expand(40, 1, 8, 8).contiguous()  # one image
    prep = Preprocess((0.0,), (1.0,), augment=Augment(random_crop_padding=2, horizontal_flip=True))
    ranks = [EpochBatches(images, torch.arange(40), 20, 0, 0, Runtime(torch.device("cpu"), rank, 2), prep)
             for rank in (0, 1)]
    assert torch.equal(torch.cat([ranks[0].order, ranks[1].order]).sort().values, torch.arange(40))
    (_, x0, _), (_, x1, _) = (next(batches.from_step(0)) for batches in ranks)
    assert not torch.equal(x0, x1)  # the same image, cropped and flipped differently on each rank
