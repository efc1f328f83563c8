"""Whole-batch preprocessing on the device: order, shard, crop, flip, resize, normalise.

No per-sample PIL work and no worker processes: the dataset is one uint8 tensor on
the device, a batch is one gather from it, and every transform is a tensor op over
the whole batch. Randomness comes from generators seeded by (seed, epoch, step, rank), so
any step of any epoch can be reproduced exactly, which is what makes resume exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import torch
import torch.nn.functional as F

from ..train_config import Augment
from .runtime import Runtime


def channel_stats(images: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of uint8 images [N, C, H, W], as fractions of 255.

    Each channel's histogram of its 256 pixel values (a bincount of the uint8 pixels: no float copy
    of the dataset) gives the sums of values and of squares as exact integers, so the mean and std are
    exact, in milliseconds for all of MNIST.
    """
    means, stds = [], []
    for channel in range(images.shape[1]):
        counts = torch.bincount(images[:, channel].reshape(-1), minlength=256).tolist()
        count = sum(counts)
        total = sum(value * times for value, times in enumerate(counts))
        squares = sum(value * value * times for value, times in enumerate(counts))
        means.append(total / count / 255)
        variance = (squares * count - total * total) / (count * count * 255 * 255)  # exact up to this division
        stds.append(math.sqrt(max(variance, 1e-12)))
    return means, stds


@dataclass(frozen=True)
class Preprocess:
    """uint8 [B, C, H, W] -> the float32 channels_last batch the network takes."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    size: tuple[int, int] | None = None  # resize to (height, width)
    augment: Augment = Augment()

    def __call__(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        x = images.float()
        if generator is not None and self.augment.random_crop_padding:
            x = random_crop(x, self.augment.random_crop_padding, generator)
        if generator is not None and self.augment.random_resized_crop:
            x = random_resized_crop(x, self.augment.random_resized_crop, generator)
        if generator is not None and self.augment.horizontal_flip:
            flip = torch.rand(len(x), generator=generator, device=x.device) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
        if self.size is not None and tuple(x.shape[2:]) != self.size:
            shrinking = self.size[0] < x.shape[2] or self.size[1] < x.shape[3]
            x = F.interpolate(x, size=self.size, mode="bilinear", align_corners=False, antialias=shrinking)
        scale = torch.tensor([1 / (255 * s) for s in self.std], device=x.device).view(1, -1, 1, 1)
        shift = torch.tensor([m / s for m, s in zip(self.mean, self.std)], device=x.device).view(1, -1, 1, 1)
        return (x * scale - shift).contiguous(memory_format=torch.channels_last)


def random_crop(x: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Zero-pad by `padding` and cut each image back to its size at its own random offset."""
    batch, _, height, width = x.shape
    padded = F.pad(x, (padding,) * 4).permute(0, 2, 3, 1)  # [B, H+2p, W+2p, C]
    offsets = torch.randint(0, 2 * padding + 1, (2, batch), generator=generator, device=x.device)
    rows = offsets[0, :, None] + torch.arange(height, device=x.device)
    cols = offsets[1, :, None] + torch.arange(width, device=x.device)
    picked = padded[torch.arange(batch, device=x.device)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return picked.permute(0, 3, 1, 2)


def random_resized_crop(x: torch.Tensor, min_area: float, generator: torch.Generator,
                        ratios: tuple[float, float] = (3 / 4, 4 / 3)) -> torch.Tensor:
    """Each image's own random box (area fraction in [min_area, 1], aspect in `ratios`) scaled back to the
    image's size: torchvision's RandomResizedCrop for a whole batch at once, as one bilinear resampling."""
    batch, device = len(x), x.device
    uniform = torch.rand((4, batch), generator=generator, device=device)
    area = min_area + (1 - min_area) * uniform[0]
    low, high = torch.tensor(ratios).log().tolist()
    ratio = torch.exp(low + (high - low) * uniform[1])
    width, height = (area * ratio).sqrt().clamp(max=1), (area / ratio).sqrt().clamp(max=1)  # fractions of the side
    centre_x, centre_y = (2 * uniform[2] - 1) * (1 - width), (2 * uniform[3] - 1) * (1 - height)  # box inside
    theta = torch.zeros((batch, 2, 3), device=device)
    theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 1], theta[:, 1, 2] = width, centre_x, height, centre_y
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


class EpochBatches:
    """The batches of one training epoch for this rank: a shuffled, sharded, augmented pass over the data."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int, seed: int, epoch: int,
                 runtime: Runtime, preprocess: Preprocess, drop_single: bool = False):
        device = images.device
        self.generator = torch.Generator(device=device)
        self.seed, self.epoch, self.rank = seed, epoch, runtime.rank
        self.generator.manual_seed(stream_seed(seed, epoch, -1))  # every rank draws the same order, then its shard
        order = torch.randperm(len(images), generator=self.generator, device=device)
        self.order = runtime.shard(order)
        self.images, self.labels, self.batch_size, self.preprocess = images, labels, batch_size, preprocess
        self.drop_single = drop_single

    def __len__(self) -> int:
        return steps_per_epoch(len(self.order), self.batch_size, self.drop_single)

    def from_step(self, start: int) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
        """(step, inputs, labels) from `start` on; step k is the same whichever step the pass started at."""
        indices = [self.order[step * self.batch_size:(step + 1) * self.batch_size] for step in range(start, len(self))]
        for step, index, pixels in zip(range(start, len(self)), indices, gather(self.images, indices)):
            self.generator.manual_seed(stream_seed(self.seed, self.epoch, step, self.rank))  # each rank its own crops
            yield step, self.preprocess(pixels, self.generator), self.labels[index]


def steps_per_epoch(samples: int, batch_size: int, drop_single: bool) -> int:
    """Steps of one epoch; with `drop_single` (a network with batchnorm) a last batch of one image is
    dropped: batchnorm cannot normalise one value per channel, and one image an epoch is no loss."""
    steps = -(-samples // batch_size)
    return steps - 1 if drop_single and steps > 1 and samples % batch_size == 1 else steps


def test_batches(images: torch.Tensor, labels: torch.Tensor, batch_size: int,
                 preprocess: Preprocess) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    indices = list(torch.arange(len(images), device=labels.device).split(batch_size))
    for index, pixels in zip(indices, gather(images, indices)):
        yield preprocess(pixels), labels[index]


def gather(images, indices: list[torch.Tensor]) -> Iterator[torch.Tensor]:
    """The uint8 batch of each index tensor: one gather from a tensor, or decoded by a stream of files
    (imagedecode.StreamedImages, a few batches ahead in worker processes)."""
    if isinstance(images, torch.Tensor):
        return (images[index] for index in indices)
    return images.batches(indices)


def stats_sample(images, most: int = 5000) -> torch.Tensor:
    """The images channel statistics are computed from: all of a tensor, an even spread of a stream's files."""
    if isinstance(images, torch.Tensor):
        return images
    picked = torch.linspace(0, len(images) - 1, min(most, len(images))).long().unique()
    return torch.cat(list(images.batches(list(picked.split(256)))))


def stream_seed(seed: int, epoch: int, step: int, rank: int = 0) -> int:
    """A distinct generator seed per (seed, epoch, step, rank), within the 63 bits manual_seed takes."""
    return (seed * 1_000_003 + epoch * 100_003 + step + 1 + rank * 10**12) % (2**63)
