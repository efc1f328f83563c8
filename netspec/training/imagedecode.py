"""Image files -> uint8 [C, H, W] tensors of the network's channels and size, and a stream of them.

One decoder serves both image-folder paths (decoded once into memory, or streamed every
epoch), so the two give the same pixels for the same file: torchvision's decoders for
JPEG, PNG, GIF and WebP, Pillow for the other formats; the channels converted explicitly
(grey repeated to RGB, RGB to grey with ITU-R 601 luma, alpha dropped); the shorter side
scaled to the target and the centre cropped to it.

`StreamedImages` stands where the trainer otherwise holds one uint8 tensor: `len()`,
indexing by a slice or an index tensor (a subset), `to(device)`, and `batches(indices)`
that decodes the given batches in DataLoader worker processes, a few batches ahead. On
CUDA, JPEG files travel from the workers as bytes and are decoded on the GPU in one
batched call (torchvision.io.decode_jpeg(device="cuda")) where torchvision offers it.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator, Sequence

import torch
import torch.nn.functional as F

from .errors import TrainError

TORCHVISION_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp"}
JPEG_SUFFIXES = {".jpg", ".jpeg"}
SOURCE_KINDS = {1: "grayscale", 2: "grayscale+alpha", 3: "RGB", 4: "RGBA"}


MAX_IMAGE_PIXELS = 50_000_000  # a 50-megapixel photo; a decompression bomb claims billions


class UnreadableImage(Exception):
    """A file that no decoder could read (truncated, corrupt, not an image, or too many pixels)."""

    def __init__(self, reason: str, hint: str = "give PNG, JPEG or other files Pillow opens"):
        super().__init__(reason)
        self.hint = hint


def decode_file(path: Path, channels: int, size: tuple[int, int]) -> tuple[torch.Tensor, int]:
    """The image in `path` as uint8 [channels, *size], and the channel count it was stored with.

    The header is read first: an image of more than MAX_IMAGE_PIXELS is refused before any pixel is decoded."""
    _refuse_huge(Path(path))
    try:
        pixels = _decode_any(Path(path))
    except Exception as error:  # every decoder has its own exception types for bad files
        raise UnreadableImage(" ".join(str(error).split())[:200] or type(error).__name__) from None
    return fit(pixels, channels, size), pixels.shape[0]


def _refuse_huge(path: Path) -> None:
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # MAX_IMAGE_PIXELS bounds it below
        try:
            with Image.open(path) as image:  # the header only
                width, height = image.size
        except Exception as error:  # Pillow's kinds for bad files, and its DecompressionBombError
            raise UnreadableImage(" ".join(str(error).split())[:200] or type(error).__name__) from None
    if width * height > MAX_IMAGE_PIXELS:
        raise UnreadableImage(f"expected at most {MAX_IMAGE_PIXELS:,} pixels; it has {width} x {height} = "
                              f"{width * height:,}", "shrink the image first; the network sees it resized to its "
                              "input anyway")


def _torchvision_io():
    """torchvision.io, whose decoders 0.29 deprecates (in favour of torchcodec, not a dependency); they still work."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        import torchvision.io

        return torchvision.io


def _quietly(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The image decoding and encoding capabilities", DeprecationWarning)
        return function(*args, **kwargs)


def _decode_any(path: Path) -> torch.Tensor:
    io = _torchvision_io()
    if path.suffix.lower() in TORCHVISION_SUFFIXES:
        try:
            return _quietly(io.decode_image, _quietly(io.read_file, str(path)), mode=io.ImageReadMode.UNCHANGED)
        except RuntimeError:  # Pillow reads more (a JPEG named .png, CMYK) and says more clearly what is wrong
            pass
    return _decode_with_pillow(path)


def _decode_with_pillow(path: Path) -> torch.Tensor:
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB" if image.mode not in ("L", "I;16") else "L")
        array = np.asarray(image)
    tensor = torch.from_numpy(array.copy())
    return tensor[None] if tensor.ndim == 2 else tensor.permute(2, 0, 1)


def fit(pixels: torch.Tensor, channels: int, size: tuple[int, int]) -> torch.Tensor:
    """uint8 [c, h, w] (any c of 1-4) -> uint8 [channels, *size]: convert, scale the shorter side, crop the centre."""
    return _resize_crop(to_channels(pixels, channels), size)


def to_channels(pixels: torch.Tensor, channels: int) -> torch.Tensor:
    colour = pixels[:3] if pixels.shape[0] >= 3 else pixels[:1]  # alpha dropped
    if channels == colour.shape[0]:
        return colour
    if channels == 3:
        return colour.expand(3, -1, -1)
    weights = torch.tensor([0.2989, 0.587, 0.114], device=colour.device).view(3, 1, 1)
    return (colour.float() * weights).sum(0, keepdim=True).round().clamp(0, 255).to(torch.uint8)


def _resize_crop(pixels: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    height, width = pixels.shape[1:]
    if (height, width) == size:
        return pixels.contiguous()
    scale = max(size[0] / height, size[1] / width)
    scaled = (max(size[0], round(height * scale)), max(size[1], round(width * scale)))
    x = F.interpolate(pixels[None].float(), size=scaled, mode="bilinear", align_corners=False,
                      antialias=scale < 1)[0]
    top, left = (scaled[0] - size[0]) // 2, (scaled[1] - size[1]) // 2
    return x[:, top:top + size[0], left:left + size[1]].round().clamp(0, 255).to(torch.uint8).contiguous()


class _FileDecoder(torch.utils.data.Dataset):
    """Worker side: file i -> (i, pixels or JPEG bytes or None, source channels or the reason it failed)."""

    def __init__(self, files: Sequence[Path], channels: int, size: tuple[int, int], jpeg_as_bytes: bool):
        self.files, self.channels, self.size, self.jpeg_as_bytes = files, channels, size, jpeg_as_bytes

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int):
        path = self.files[index]
        if self.jpeg_as_bytes and path.suffix.lower() in JPEG_SUFFIXES:
            return index, ("jpeg", _quietly(_torchvision_io().read_file, str(path))), None
        try:
            pixels, stored = decode_file(path, self.channels, self.size)
        except UnreadableImage as error:
            return index, None, str(error)
        return index, ("pixels", pixels), stored


def decode_all(files: Sequence[Path], channels: int, size: tuple[int, int],
               workers: int) -> tuple[torch.Tensor, torch.Tensor, list[tuple[Path, str]], Counter]:
    """Every file decoded once (in `workers` processes): uint8 [N, C, H, W] of the readable ones, which
    files those are (a bool mask), the (path, reason) of the others, and how many files were stored with
    each channel count."""
    images = torch.empty((len(files), channels, *size), dtype=torch.uint8)
    readable = torch.zeros(len(files), dtype=torch.bool)
    failures, stored_channels = [], Counter()
    _torchvision_io()  # imported once here, not once in every forked worker
    loader = torch.utils.data.DataLoader(_FileDecoder(files, channels, size, False), batch_size=256,
                                         num_workers=workers, collate_fn=_keep_list)
    for items in loader:
        for index, decoded, detail in items:
            if decoded is None:
                failures.append((Path(files[index]), detail))
            else:
                images[index], readable[index] = decoded[1], True
                stored_channels[detail] += 1
    return images[readable], readable, failures, stored_channels


def probe_all(files: Sequence[Path], workers: int) -> list[tuple[Path, str]]:
    """The (path, reason) of files whose header no decoder accepts: the streaming path's check before training."""
    loader = torch.utils.data.DataLoader(_HeaderProbe(files), batch_size=512, num_workers=workers,
                                         collate_fn=_keep_list)
    return [(Path(files[index]), reason) for items in loader for index, reason in items if reason is not None]


class _HeaderProbe(torch.utils.data.Dataset):
    def __init__(self, files: Sequence[Path]):
        self.files = files

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[int, str | None]:
        try:
            _refuse_huge(Path(self.files[index]))  # the header alone: decoding every file is the cached path's work
        except UnreadableImage as error:
            return index, str(error)
        return index, None


def _keep_list(items):
    return items


def default_workers() -> int:
    return min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@dataclass(frozen=True)
class StreamedImages:
    """Image files standing in for a uint8 [N, C, H, W] tensor: decoded when a batch is asked for."""

    files: tuple[Path, ...]
    channels: int
    size: tuple[int, int]
    device: torch.device = torch.device("cpu")
    workers: int = 0

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.files), self.channels, *self.size)

    def __len__(self) -> int:
        return len(self.files)

    def numel(self) -> int:
        return len(self.files) * self.channels * self.size[0] * self.size[1]

    def __getitem__(self, index: slice | torch.Tensor) -> "StreamedImages":
        if isinstance(index, slice):
            return replace(self, files=self.files[index])
        return replace(self, files=tuple(self.files[i] for i in index.tolist()))

    def to(self, device: torch.device) -> "StreamedImages":
        return replace(self, device=torch.device(device))

    def batches(self, indices: Sequence[torch.Tensor]) -> Iterator[torch.Tensor]:
        """The uint8 batch of each index tensor, in order, on `device`; an unreadable file is a TrainError."""
        gpu_jpeg = jpeg_decoded_on(self.device)
        _torchvision_io()  # imported once here, not once in every forked worker
        loader = torch.utils.data.DataLoader(
            _FileDecoder(self.files, self.channels, self.size, gpu_jpeg), batch_sampler=[i.tolist() for i in indices],
            num_workers=self.workers, collate_fn=_keep_list, pin_memory=self.device.type == "cuda",
            prefetch_factor=4 if self.workers else None, persistent_workers=False)
        for items in loader:
            yield self._assemble(items)

    def _assemble(self, items: list) -> torch.Tensor:
        bad = [(self.files[index], reason) for index, decoded, reason in items if decoded is None]
        if bad:
            raise TrainError(f"cannot read image {bad[0][0]}: {bad[0][1]} (it changed or broke after the folder "
                             "was scanned)", "remove or replace the file, then continue with --resume")
        decoded = [(slot, kind, data) for slot, (_, (kind, data), _) in enumerate(items)]
        on_host = [(slot, data) for slot, kind, data in decoded if kind == "pixels"]
        if len(on_host) == len(items):  # one host-to-device copy per batch
            return torch.stack([data for _, data in on_host]).to(self.device, non_blocking=True)
        out = torch.empty((len(items), self.channels, *self.size), dtype=torch.uint8, device=self.device)
        if on_host:
            out[[slot for slot, _ in on_host]] = torch.stack([data for _, data in on_host]).to(self.device)
        jpegs = [(slot, data) for slot, kind, data in decoded if kind == "jpeg"]
        pixels = decode_jpegs_on_device([data for _, data in jpegs], self.device)
        out[[slot for slot, _ in jpegs]] = torch.stack([fit(image, self.channels, self.size) for image in pixels])
        return out


def jpeg_decoded_on(device: torch.device) -> bool:
    """Whether JPEG files travel as bytes and are decoded on `device` (CUDA with nvjpeg), not in the workers."""
    return device.type == "cuda" and _gpu_jpeg_available()


@functools.cache
def _gpu_jpeg_available() -> bool:
    try:
        io = _torchvision_io()
        _quietly(io.decode_jpeg, [_quietly(io.encode_jpeg, torch.zeros((1, 8, 8), dtype=torch.uint8))],
                 device="cuda")  # nvjpeg works here
        return True
    except Exception:  # torchvision built without nvjpeg, or no usable GPU
        return False


def decode_jpegs_on_device(data: list[torch.Tensor], device: torch.device) -> list[torch.Tensor]:
    io = _torchvision_io()
    return _quietly(io.decode_jpeg, data, mode=io.ImageReadMode.UNCHANGED, device=device)
