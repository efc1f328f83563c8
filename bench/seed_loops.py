"""The seeds' training loops, rewritten faithfully so `train_vs_seed.py` can time them next to netspec.

Each function keeps its seed's data pipeline (torchvision dataset + per-sample PIL
transforms + DataLoader), optimizer, loss, per-step host reads (`loss.item()`,
d2l's `float(...)` accumulators) and evaluation loop. What changed, and only so that a
benchmark can run them: the number of epochs and of images (the first N, as
`netspec train --limit-train N` takes them) are parameters, the device is a parameter
(seed 002 never moves anything to a GPU), torchvision never downloads (offline), and
plots are left out (d2l's Animator redraws a figure five times an epoch; leaving it
out only favours the seed). Each epoch's training and evaluation are timed separately.
"""

from __future__ import annotations

import gzip
import pickle
import shutil
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

IDX_STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@dataclass
class Epoch:
    train_seconds: float  # wall time of the seed's train loop, data loading included
    images: int
    test_acc: float
    eval_seconds: float
    compute_seconds: float | None = None  # d2l's own Timer: the steps without waiting for data


@dataclass
class SeedRun:
    setup_seconds: float  # datasets, loaders, network to device
    epochs: list[Epoch] = field(default_factory=list)


def torchvision_root(dataset: str, source: Path, cache: Path) -> Path:
    """A root torchvision's MNIST/FashionMNIST reads offline: the IDX files decompressed into <root>/<Class>/raw."""
    raw = cache / "torchvision" / {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}[dataset] / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for stem in IDX_STEMS:
        target = raw / stem
        if target.exists():
            continue
        packed, plain = source / f"{stem}.gz", source / stem
        if packed.exists():
            with gzip.open(packed, "rb") as reader, open(target, "wb") as writer:
                shutil.copyfileobj(reader, writer)
        elif plain.exists():
            shutil.copyfile(plain, target)
        else:
            raise SystemExit(f"{source}: expected the IDX file {stem}(.gz) of {dataset}; it is not there")
    return raw.parent.parent


def first(dataset, limit: int | None):
    return dataset if limit is None else Subset(dataset, range(min(limit, len(dataset))))


def drive(epochs: int, train: Callable[[int], tuple[int, float | None]], test: Callable[[], float],
          device: torch.device, run: SeedRun) -> SeedRun:
    """The seeds' outer loop (`for epoch in range(...): train(epoch); test()`), timing each part.

    `train` returns the images it trained on and, for d2l, its own timer's seconds.
    """
    for epoch in range(epochs):
        start = time.perf_counter()
        images, compute_seconds = train(epoch)
        _synchronize(device)
        trained = time.perf_counter()
        accuracy = test()
        run.epochs.append(Epoch(trained - start, images, accuracy, time.perf_counter() - trained, compute_seconds))
    return run


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# --- seed 003: resnet / googlenet on MNIST, batch 64, SGD lr 0.01

def seed003_mnist(net: nn.Module, root: Path, epochs: int, device: torch.device, limit_train: int | None = None,
                  limit_test: int | None = None, log: Callable[[str], None] = print) -> SeedRun:
    started = time.perf_counter()
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train_dataset = first(datasets.MNIST(root=str(root), train=True, transform=transform, download=False), limit_train)
    train_loader = DataLoader(dataset=train_dataset, batch_size=64, shuffle=True)
    test_dataset = first(datasets.MNIST(root=str(root), train=False, transform=transform, download=False), limit_test)
    test_loader = DataLoader(dataset=test_dataset, batch_size=64, shuffle=False)
    net.to(device)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01)

    def train(epoch):
        running_loss, seen = 0.0, 0
        for batch_idx, data in enumerate(train_loader, 0):
            inputs, targets = data
            inputs, targets = inputs.to(device), targets.to(device)
            optimizer.zero_grad()
            y_pred = net(inputs)
            loss = criterion(y_pred, targets)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            seen += len(targets)
            if batch_idx % 300 == 299:
                log("[%d,%d]loss:%.3f" % (epoch + 1, batch_idx + 1, running_loss / 300))
                running_loss = 0.0
        return seen, None

    def test():
        correct = 0
        total = 0
        with torch.no_grad():
            for data in test_loader:
                images, labels = data
                images, labels = images.to(device), labels.to(device)
                outputs = net(images)
                _, predicted = torch.max(outputs.data, dim=1)
                total += labels.size(0)
                correct += (labels == predicted).sum().item()
        log("accuracy on test set:%d %% [%d/%d]" % (100 * correct / total, correct, total))
        return correct / total

    return drive(epochs, train, test, device, SeedRun(time.perf_counter() - started))


# --- seed 001: d2l's AlexNet on Fashion-MNIST resized to 224, batch 128, d2l.train_ch6 with lr 0.01

def seed001_d2l(net: nn.Module, root: Path, epochs: int, device: torch.device, limit_train: int | None = None,
                limit_test: int | None = None, log: Callable[[str], None] = print, batch_size: int = 128,
                resize: int | None = 224, lr: float = 0.01) -> SeedRun:
    started = time.perf_counter()
    trans = [transforms.ToTensor()]  # d2l.load_data_fashion_mnist
    if resize:
        trans.insert(0, transforms.Resize(resize))
    trans = transforms.Compose(trans)
    mnist_train = first(datasets.FashionMNIST(root=str(root), train=True, transform=trans, download=False), limit_train)
    mnist_test = first(datasets.FashionMNIST(root=str(root), train=False, transform=trans, download=False), limit_test)
    train_iter = DataLoader(mnist_train, batch_size, shuffle=True, num_workers=4)  # d2l.get_dataloader_workers()
    test_iter = DataLoader(mnist_test, batch_size, shuffle=False, num_workers=4)

    def init_weights(m):  # d2l.train_ch6 from here on
        if type(m) == nn.Linear or type(m) == nn.Conv2d:
            nn.init.xavier_uniform_(m.weight)

    net.apply(init_weights)
    net.to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()

    def train(epoch):
        metric, timer = [0.0, 0.0, 0.0], 0.0  # d2l.Accumulator(3), d2l.Timer()
        net.train()
        for i, (X, y) in enumerate(train_iter):
            begin = time.perf_counter()
            optimizer.zero_grad()
            X, y = X.to(device), y.to(device)
            y_hat = net(X)
            l = loss(y_hat, y)
            l.backward()
            optimizer.step()
            with torch.no_grad():
                metric = [a + float(b) for a, b in zip(metric, (l * X.shape[0], d2l_accuracy(y_hat, y), X.shape[0]))]
            timer += time.perf_counter() - begin
        log(f"epoch {epoch + 1}: loss {metric[0] / metric[2]:.3f}, train acc {metric[1] / metric[2]:.3f}, "
            f"{metric[2] / timer:.1f} examples/sec on {device} (d2l's timer)")
        return int(metric[2]), timer

    def test():  # d2l.evaluate_accuracy_gpu
        net.eval()
        metric = [0.0, 0.0]
        with torch.no_grad():
            for X, y in test_iter:
                X, y = X.to(device), y.to(device)
                metric = [a + float(b) for a, b in zip(metric, (d2l_accuracy(net(X), y), y.numel()))]
        log(f"test acc {metric[0] / metric[1]:.3f}")
        return metric[0] / metric[1]

    return drive(epochs, train, test, device, SeedRun(time.perf_counter() - started))


def d2l_accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


# --- seed 002: the PyTorch tutorial's LeNet on CIFAR-10, batch 4, SGD lr 0.001 momentum 0.9

class UncheckedCIFAR10(datasets.CIFAR10):
    """torchvision's CIFAR10 reader without its md5 check, for CIFAR-format files written by `write_synthetic_cifar`."""

    def _check_integrity(self) -> bool:
        return True

    def _load_meta(self) -> None:
        self.classes = ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
        self.class_to_idx = {name: index for index, name in enumerate(self.classes)}


def seed002_cifar(net: nn.Module, root: Path, epochs: int, device: torch.device, limit_train: int | None = None,
                  limit_test: int | None = None, log: Callable[[str], None] = print,
                  synthetic: bool = False) -> SeedRun:
    started = time.perf_counter()
    reader = UncheckedCIFAR10 if synthetic else datasets.CIFAR10
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    trainset = first(reader(root=str(root), train=True, download=False, transform=transform), limit_train)
    trainloader = DataLoader(trainset, batch_size=4, shuffle=True, num_workers=2)
    testset = first(reader(root=str(root), train=False, download=False, transform=transform), limit_test)
    testloader = DataLoader(testset, batch_size=4, shuffle=False, num_workers=2)
    net.to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)

    def train(epoch):
        running_loss, seen = 0.0, 0
        for i, data in enumerate(trainloader, 0):
            inputs, labels = data
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            seen += len(labels)
            if i % 2000 == 1999:
                log('[%d, %5d] loss: %.3f' % (epoch + 1, i + 1, running_loss / 2000))
                running_loss = 0.0
        return seen, None

    def test():
        correct = 0
        total = 0
        with torch.no_grad():
            for data in testloader:
                images, labels = data
                images, labels = images.to(device), labels.to(device)
                outputs = net(images)
                _, predicted = torch.max(outputs.data, 1)
                total += labels.size(0)
                correct += (predicted == labels).sum().item()
        log('Accuracy of the network on the %d test images: %d %%' % (total, 100 * correct / total))
        return correct / total

    return drive(epochs, train, test, device, SeedRun(time.perf_counter() - started))


def write_synthetic_cifar(folder: Path, train_images: int, test_images: int, seed: int = 0) -> Path:
    """CIFAR-10 python-format batches of learnable synthetic images (a noisy per-class pattern); NOT CIFAR-10.

    For timing only where the real data is absent: same sizes, dtypes and files, so both
    loaders do the same work; accuracies on it say nothing about CIFAR-10.
    """
    batches = folder / "cifar-10-batches-py"
    batches.mkdir(parents=True, exist_ok=True)
    generator = np.random.default_rng(seed)
    patterns = generator.integers(0, 256, size=(10, 3072)).astype(np.float32)

    def images(count: int) -> dict:
        labels = generator.integers(0, 10, size=count)
        noise = 64 * generator.standard_normal(size=(count, 3072), dtype=np.float32)
        data = np.clip(0.5 * patterns[labels] + 64 + noise, 0, 255).astype(np.uint8)
        return {b"data": data, b"labels": labels.tolist()}

    per_file = -(-train_images // 5)
    for name, count in [(f"data_batch_{index}", per_file) for index in range(1, 6)] + [("test_batch", test_images)]:
        with open(batches / name, "wb") as file:
            _Python2Pickler(file, protocol=2).dump(images(count))
    return folder


class _Python2Pickler(pickle._Pickler):
    """Writes bytes as Python 2 `str`, as CIFAR-10's own files do, so each reader finds its keys:
    torchvision loads with encoding="latin1" (keys 'data'), netspec with encoding="bytes" (keys b'data')."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_python2_str(self, obj: bytes) -> None:
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_python2_str
