"""Folders of class folders (torchvision's ImageFolder layout) as a training Dataset.

    root/train/<class>/*.png    root/val/<class>/...    root/test/<class>/...   (val/ and test/ optional)
    root/<class>/*.jpg                                                          (one folder: split by --val-fraction)

Class names are the folder names, sorted; every split must have the same classes and
no class folder may be empty. Files without an image suffix (and files no decoder
reads) are skipped and every one of them is reported with its path; hidden files
(.DS_Store, ...) are ignored.

A folder whose decoded images fit the memory budget is decoded once into one uint8
tensor (the trainer's fast path, as for MNIST) and cached on disk, keyed by every
file's name, size and modification time: the next run loads the cache, a changed
folder is decoded again. A larger folder is streamed: `StreamedImages` decodes each
batch in worker processes while the device trains on the previous one.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch

from .checkpoint import write_atomically
from .data import Dataset, default_root, load_dataset
from .errors import DataNotFound, TrainError
from .imagedecode import SOURCE_KINDS, StreamedImages, decode_all, default_workers, probe_all
from .settings import IMAGE_FOLDER, Settings

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm",
                  ".pnm"}
SPLITS = ("train", "val", "test")
CACHE_VERSION = 1
DEFAULT_BUDGET_FRACTION = 0.25  # of the device's memory (GPU) or of the machine's (CPU)
SHOWN_PROBLEMS = 20
IN_PROCESS_FILES = 2000  # smaller folders are decoded without worker processes (unless --workers says otherwise)


@dataclass(frozen=True)
class FolderLayout:
    """What a scan found: the classes, each split's (file, label) lists, and files that are not images."""

    root: Path
    classes: tuple[str, ...]
    splits: dict[str, tuple[tuple[Path, ...], tuple[int, ...]]]
    not_images: tuple[Path, ...]

    @property
    def files(self) -> list[Path]:
        return [path for files, _ in self.splits.values() for path in files]


def scan(root: Path) -> FolderLayout:
    """List the folder (no image is opened); a layout problem is one TrainError naming every folder at fault."""
    root = Path(root)
    if not root.is_dir():
        raise DataNotFound(f"expected a folder of class folders at {root}; there is no such folder",
                           "give --dataset PATH (or --dataset imagefolder --data-dir PATH) of an existing folder")
    present = [name for name in SPLITS if (root / name).is_dir()]
    if present and "train" not in present:
        raise TrainError(f"{root}: expected a train/ folder beside {', '.join(f'{n}/' for n in present)}",
                         "put the training images in train/<class>/, or use one folder of class folders")
    folders = {name: root / name for name in present} or {"train": root}
    problems, found, not_images = [], {}, []
    for split, folder in folders.items():
        classes, strays = _scan_classes(folder, problems)
        found[split] = classes
        not_images += strays
    names = tuple(sorted(found["train"]))
    for split, classes in found.items():
        missing, extra = sorted(set(names) - set(classes)), sorted(set(classes) - set(names))
        if missing:
            problems.append(f"{folders[split]} lacks the classes {', '.join(missing)} that train/ has")
        if extra:
            problems.append(f"{folders[split]} has classes that train/ lacks: {', '.join(extra)}")
    if problems:
        raise TrainError(f"{root}: not a usable image folder:\n" + "\n".join(f"  - {p}" for p in problems),
                         "every split needs the same class folders, each holding at least one image")
    index = {name: i for i, name in enumerate(names)}
    splits = {split: (tuple(path for name in sorted(classes) for path in classes[name]),
                      tuple(index[name] for name in sorted(classes) for _ in classes[name]))
              for split, classes in found.items()}
    return FolderLayout(root, names, splits, tuple(not_images))


def _scan_classes(folder: Path, problems: list[str]) -> tuple[dict[str, list[Path]], list[Path]]:
    class_folders = sorted(entry for entry in folder.iterdir() if entry.is_dir() and not entry.name.startswith("."))
    if not class_folders:
        problems.append(f"{folder} holds no class folders (expected {folder}/<class name>/<images>)")
    classes, strays = {}, []
    for class_folder in class_folders:
        images = []
        for directory, subfolders, names in os.walk(class_folder, followlinks=True):
            subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
            for name in sorted(names):
                path = Path(directory) / name
                if not name.startswith("."):
                    (images if path.suffix.lower() in IMAGE_SUFFIXES else strays).append(path)
        if not images:
            problems.append(f"class folder {class_folder} is empty (no image files)")
        classes[class_folder.name] = images
    return classes, strays


def open_dataset(settings: Settings, input_shape: tuple[int, int, int], device: torch.device) -> Dataset:
    """The run's data: a known dataset (found or downloaded), or an image folder read for this network's input."""
    if settings.dataset != IMAGE_FOLDER:
        return load_dataset(settings.dataset, settings.data_dir, settings.download)
    budget = None if settings.memory_budget is None else settings.memory_budget * 2**20
    return load_image_folder(settings.data_dir, input_shape[0], tuple(input_shape[1:]), device, budget,
                             settings.workers)


def default_budget(device: torch.device) -> int:
    """Bytes of decoded images the in-memory path may hold: a quarter of the device's memory."""
    if device.type == "cuda":
        return int(torch.cuda.get_device_properties(device).total_memory * DEFAULT_BUDGET_FRACTION)
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * DEFAULT_BUDGET_FRACTION)


def load_image_folder(root: Path, channels: int, size: tuple[int, int], device: torch.device,
                      memory_budget: int | None = None, workers: int | None = None) -> Dataset:
    """The folder's splits as uint8 [N, channels, *size] (in memory, or streamed when over the budget)."""
    if channels not in (1, 3):
        raise TrainError(f"expected a network taking 1 (grey) or 3 (RGB) channels to train on image files; "
                         f"this one takes {channels}", "change the spec's `input` to [1, H, W] or [3, H, W]")
    layout = scan(root)
    if workers is None:  # starting worker processes costs more than decoding a few thousand small files
        workers = default_workers() if len(layout.files) >= IN_PROCESS_FILES else 0
    budget = default_budget(device) if memory_budget is None else memory_budget
    needed = len(layout.files) * channels * size[0] * size[1]
    if needed <= budget:
        splits, notes = _cached(layout, channels, size, workers)
        how = f"decoded in memory ({needed / 2**20:,.1f} MiB)"
    else:
        splits, notes = _streamed(layout, channels, size, workers)
        how = (f"streamed by {workers} worker processes ({needed / 2**20:,.1f} MiB decoded exceeds the "
               f"{budget / 2**20:,.0f} MiB memory budget)")
    empty = (torch.empty((0, channels, *size), dtype=torch.uint8), torch.empty(0, dtype=torch.long))
    train, val, test = (splits.get(name, empty if name == "test" else (None, None)) for name in SPLITS)
    counts = ", ".join(f"{len(splits[name][1]):,} {name}" for name in SPLITS if name in splits)
    notes = (f"{root}: {len(layout.classes)} classes, {counts} images, {how}", *notes)
    return Dataset("imagefolder", layout.classes, *train, *test, str(root), val_images=val[0], val_labels=val[1],
                   notes=notes)


def _streamed(layout: FolderLayout, channels: int, size: tuple[int, int], workers: int) -> tuple[dict, list[str]]:
    failures = probe_all(layout.files, workers)
    broken = {path for path, _ in failures}
    splits = {}
    for split, (files, labels) in layout.splits.items():
        kept = [i for i, path in enumerate(files) if path not in broken]
        splits[split] = (StreamedImages(tuple(files[i] for i in kept), channels, size, workers=workers),
                         torch.tensor([labels[i] for i in kept], dtype=torch.long))
    target = "grayscale" if channels == 1 else "RGB"
    return splits, [*_problem_notes(layout.not_images, failures),
                    f"each image is converted to {target} (the spec's input has {channels} "
                    f"channel{'s' * (channels != 1)}) as it is read"]


def _cached(layout: FolderLayout, channels: int, size: tuple[int, int], workers: int) -> tuple[dict, list[str]]:
    path = _cache_path(layout, channels, size)
    saved = _read_cache(path)
    if saved is None:
        saved = _decode_layout(layout, channels, size, workers)
        for stale in path.parent.glob(path.name.split("-")[0] + "-*.pt"):
            stale.unlink(missing_ok=True)  # the folder changed: its older caches are useless
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda file: torch.save(saved, file))
        origin = f"cached in {path}"
    else:
        origin = f"read from the cache {path} (the folder is unchanged)"
    failures = [(Path(p), reason) for p, reason in saved["failures"]]
    notes = [origin, *_problem_notes(layout.not_images, failures), *_conversion_notes(saved["stored"], channels)]
    return {split: (entry["images"], entry["labels"]) for split, entry in saved["splits"].items()}, notes


def _decode_layout(layout: FolderLayout, channels: int, size: tuple[int, int], workers: int) -> dict:
    splits, failures, stored = {}, [], Counter()
    for split, (files, labels) in layout.splits.items():
        images, readable, bad, channel_counts = decode_all(files, channels, size, workers)
        splits[split] = {"images": images, "labels": torch.tensor(labels, dtype=torch.long)[readable]}
        failures += [(str(p), reason) for p, reason in bad]
        stored.update(channel_counts)
    return {"version": CACHE_VERSION, "splits": splits, "failures": failures, "stored": dict(stored)}


def _cache_path(layout: FolderLayout, channels: int, size: tuple[int, int]) -> Path:
    """One cache file per folder, named by the folder's path and by what is in it (names, sizes, mtimes)."""
    content = hashlib.sha256(f"{CACHE_VERSION} {channels} {size}".encode())
    for path in sorted(layout.files + list(layout.not_images)):
        stat = path.stat()
        content.update(f"{path.relative_to(layout.root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    folder = hashlib.sha256(str(layout.root.resolve()).encode()).hexdigest()[:16]
    return default_root() / "imagefolder-cache" / f"{folder}-{content.hexdigest()[:24]}.pt"


def _read_cache(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # a damaged cache is only a slower start: decode the folder again
        return None
    return saved if isinstance(saved, dict) and saved.get("version") == CACHE_VERSION else None


def _problem_notes(not_images: tuple[Path, ...], failures: list[tuple[Path, str]]) -> list[str]:
    problems = [f"{path} (not an image file: suffix {path.suffix or 'none'})" for path in not_images]
    problems += [f"{path} (unreadable: {reason})" for path, reason in failures]
    if not problems:
        return []
    shown = "\n".join(f"  - {line}" for line in problems[:SHOWN_PROBLEMS])
    more = f"\n  ... and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
    return [f"skipped {len(problems)} file{'s' * (len(problems) != 1)} that are not readable images:\n{shown}{more}"]


def _conversion_notes(stored: dict[int, int], channels: int) -> list[str]:
    target = "grayscale" if channels == 1 else "RGB"
    converted = [f"{count:,} {SOURCE_KINDS.get(c, f'{c}-channel')}" for c, count in sorted(stored.items())
                 if SOURCE_KINDS.get(c) != target]
    if not converted:
        return []
    return [f"converted {' and '.join(converted)} images to {target} (the spec's input has {channels} "
            f"channel{'s' * (channels != 1)})"]
