"""Image-folder loading: netspec's in-memory (cached) and streamed paths vs torchvision's ImageFolder + DataLoader.

One folder of JPEG (or PNG) files, written once from MNIST digits scaled up and tinted
into RGB photos (`--photo-size`, default 96x96) so that decoding, resizing and colour
conversion cost what they cost on real photos; every side delivers the same thing per
epoch: shuffled batches of float32 images of the network's input (`--input`, default
3x64x64: scaled by the shorter side, centre-cropped, randomly flipped, normalised) on
the device.

  torchvision   datasets.ImageFolder (PIL decode) + Resize/CenterCrop/RandomHorizontalFlip/
                ToTensor/Normalize per image, DataLoader(shuffle, --workers, pin_memory on CUDA)
  streamed      netspec's streaming path: files decoded by DataLoader workers with torchvision's
                decoders (on CUDA, JPEGs batch-decoded on the GPU by nvjpeg), then whole-batch
                preprocessing on the device
  in memory     netspec's cached path: the folder decoded once into a uint8 tensor on the
                device; an epoch is gathers and whole-batch tensor ops

Sides alternate per round (A B C, C B A, ...); images/s over one epoch each. The one-off
costs of the in-memory path are reported apart: the first read (decode everything, write
the cache) and a later run's start (read the cache).

Examples:
  .venv/bin/python bench/imagefolder_speed.py --threads 1            # 10,000 images, 3 rounds, on the CPU
  .venv/bin/python bench/imagefolder_speed.py --device cuda --images 60000
  .venv/bin/python bench/imagefolder_speed.py --smoke --no-record    # a few seconds: the test suite runs it
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from harness import (DATA_CACHE, REPO, add_common_arguments, configure, interleaved, markdown_table, ratios, report,
                     synchronize)

sys.path.insert(0, str(REPO))
MNIST_DIRS = (REPO / ".gpu_carry" / "mnist", REPO.parent / "shared" / "datasets" / "mnist",
              REPO / "tests" / "data" / "mnist-sample")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--images", type=int, default=10000, help="files in the folder (default 10000)")
    parser.add_argument("--format", choices=("jpg", "png"), default="jpg")
    parser.add_argument("--photo-size", type=int, default=96, help="side of the files' images (default 96)")
    parser.add_argument("--input", type=int, default=64, help="side of the network's input (default 64)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="512 images of 40x40, input 32, one round")
    args = parser.parse_args()
    if args.smoke:
        args.images, args.photo_size, args.input, args.rounds, args.workers = 512, 40, 32, 1, min(args.workers, 2)
    return args


def write_folder(args: argparse.Namespace) -> Path:
    """runs/bench-data/imagefolder-*/train/<digit>/*.jpg, written once per size and format."""
    import numpy as np
    from PIL import Image

    from netspec.training.data import load_dataset

    root = DATA_CACHE / f"imagefolder-{args.images}-{args.photo_size}-{args.format}"
    if (root / "done").exists():
        return root
    source = next(folder for folder in MNIST_DIRS if folder.is_dir())
    data = load_dataset("mnist", source, download=False)
    tints = np.random.default_rng(0).uniform(0.3, 1.0, (10, 3))
    for index in range(args.images):
        digit = data.train_images[index % len(data.train_images), 0].numpy()
        label = int(data.train_labels[index % len(data.train_labels)])
        grey = Image.fromarray(digit).resize((args.photo_size, args.photo_size), Image.BILINEAR)
        rgb = (np.asarray(grey)[:, :, None] * tints[label]).astype(np.uint8)
        folder = root / "train" / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rgb).save(folder / f"{index:06d}.{args.format}", quality=90)
    (root / "done").write_text("ok")
    return root


def torchvision_epoch(root: Path, args: argparse.Namespace, device, mean, std):
    import torch
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.Resize(args.input), transforms.CenterCrop(args.input),
                                    transforms.RandomHorizontalFlip(), transforms.ToTensor(),
                                    transforms.Normalize(mean, std)])
    loader = torch.utils.data.DataLoader(datasets.ImageFolder(str(root / "train"), transform), args.batch_size,
                                         shuffle=True, num_workers=args.workers, pin_memory=device.type == "cuda")

    def epoch() -> float:
        start = time.perf_counter()
        for images, labels in loader:
            images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        synchronize(device)
        return len(loader.dataset) / (time.perf_counter() - start)

    return epoch


def netspec_epoch(images, labels, args: argparse.Namespace, device, mean, std):
    from netspec.train_config import Augment
    from netspec.training.pipeline import EpochBatches, Preprocess
    from netspec.training.runtime import Runtime

    preprocess = Preprocess(tuple(mean), tuple(std), augment=Augment(horizontal_flip=True))
    runtime, counter = Runtime(device), [0]

    def epoch() -> float:
        counter[0] += 1
        start = time.perf_counter()
        for _ in EpochBatches(images, labels, args.batch_size, 0, counter[0], runtime, preprocess).from_step(0):
            pass
        synchronize(device)
        return len(labels) / (time.perf_counter() - start)

    return epoch


def main() -> None:
    args = parse_arguments()
    device = configure(args)
    root = write_folder(args)
    from netspec.training.imagefolder import load_image_folder

    size, mean, std = (args.input, args.input), [0.5] * 3, [0.25] * 3
    from netspec.training.imagedecode import decode_file

    decode_file(next((root / "train" / "0").iterdir()), 3, size)  # imports and first-call costs out of the timings
    with tempfile.TemporaryDirectory(prefix="netspec-bench-cache-") as cache:
        os.environ["NETSPEC_DATA"] = cache  # a cold cache: the first read decodes every file
        start = time.perf_counter()
        decoded = load_image_folder(root, 3, size, device, workers=args.workers).to(device)
        first_read = time.perf_counter() - start
        start = time.perf_counter()
        load_image_folder(root, 3, size, device, workers=args.workers)
        cache_hit = time.perf_counter() - start
    streamed = load_image_folder(root, 3, size, device, memory_budget=0, workers=args.workers).to(device)
    sides = {"torchvision ImageFolder + DataLoader": torchvision_epoch(root, args, device, mean, std),
             "netspec streamed": netspec_epoch(streamed.train_images, streamed.train_labels, args, device, mean, std),
             "netspec in memory (cached)": netspec_epoch(decoded.train_images, decoded.train_labels, args, device,
                                                         mean, std)}
    rates = interleaved(sides, args.rounds)
    base = rates["torchvision ImageFolder + DataLoader"]
    rows = [[name, f"{min(r):,.0f} / {sorted(r)[len(r) // 2]:,.0f} / {max(r):,.0f}", ratios(r, base).format(2)]
            for name, r in rates.items()]
    table = markdown_table(["side", "images/s (min / median / max)", "vs torchvision"], rows)
    gpu_jpeg = "nvjpeg batch decoding on the GPU" if device.type == "cuda" else "CPU decoding in the workers"
    notes = [f"{args.images:,} {args.format.upper()} files of {args.photo_size}x{args.photo_size} RGB (MNIST digits, "
             f"tinted) -> 3x{args.input}x{args.input}, batch {args.batch_size}, {args.workers} workers, "
             f"{args.rounds} rounds of one epoch per side; streamed JPEGs: {gpu_jpeg}",
             f"in memory: first read (decode + write the cache) {first_read:.1f} s "
             f"({args.images / first_read:,.0f} images/s); a later run's start (cache hit) {cache_hit:.2f} s",
             "vs torchvision: median of per-round ratios [25th-75th percentile]"]
    report(f"Image-folder loading: {args.images:,} {args.format} files", device, table, notes, not args.no_record)


if __name__ == "__main__":
    main()
