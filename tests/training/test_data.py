"""Reading datasets: IDX (gzipped or raw), CIFAR-10 python batches, known places, the missing-data message."""

from __future__ import annotations

import gzip
import pickle

import numpy as np
import pytest
import torch

from netspec.training.data import _ArrayUnpickler, load_dataset, read_idx
from netspec.training.errors import DataNotFound, TrainError

from .conftest import MNIST_SAMPLE, write_cifar_folder


def test_gzipped_and_raw_idx_files_read_the_same(tmp_path):
    for path in MNIST_SAMPLE.glob("*.gz"):
        (tmp_path / path.stem).write_bytes(gzip.decompress(path.read_bytes()))
    zipped, raw = load_dataset("mnist", MNIST_SAMPLE, download=False), load_dataset("mnist", tmp_path, download=False)
    assert zipped.train_images.shape == (1200, 1, 28, 28) and zipped.train_images.dtype == torch.uint8
    assert zipped.test_images.shape == (400, 1, 28, 28)
    assert torch.equal(zipped.train_images, raw.train_images) and torch.equal(zipped.test_labels, raw.test_labels)
    assert zipped.train_labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # MNIST's well-known first labels


def test_torchvision_layout_is_found_under_the_data_dir(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for path in MNIST_SAMPLE.glob("*.gz"):
        (raw / path.name).write_bytes(path.read_bytes())
    assert len(load_dataset("mnist", tmp_path, download=False).train_images) == 1200


def test_truncated_idx_file_is_a_clear_error(tmp_path):
    data = gzip.decompress((MNIST_SAMPLE / "t10k-images-idx3-ubyte.gz").read_bytes())
    (tmp_path / "cut").write_bytes(data[:1000])
    with pytest.raises(TrainError, match=r"expected 313,616 bytes for shape \[400, 28, 28\]; got 1,000"):
        read_idx(tmp_path / "cut")
    (tmp_path / "text").write_bytes(b"hello world")
    with pytest.raises(TrainError, match="expected an IDX file"):
        read_idx(tmp_path / "text")


def test_idx_images_of_another_size_are_refused(tmp_path):
    for path in MNIST_SAMPLE.glob("*.gz"):
        data = bytearray(gzip.decompress(path.read_bytes()))
        if "images" in path.name:  # the same bytes, relabelled as 14x56 images
            data[8:16] = (14).to_bytes(4, "big") + (56).to_bytes(4, "big")
        (tmp_path / path.stem).write_bytes(bytes(data))
    with pytest.raises(TrainError, match=r"expected train images \[N, 28, 28\] and N labels; "
                                         r"got images \[1200, 14, 56\]"):
        load_dataset("mnist", tmp_path, download=False)


def test_cifar_batches_are_read_as_uint8_images(tmp_path):
    write_cifar_folder(tmp_path, per_batch=8)
    data = load_dataset("cifar10", tmp_path, download=False)
    assert data.train_images.shape == (40, 3, 32, 32) and data.test_images.shape == (8, 3, 32, 32)
    assert data.classes[0] == "airplane" and data.train_labels.dtype == torch.int64


def test_cifar_reader_refuses_pickles_that_would_run_code(tmp_path):
    class Exploit:
        def __reduce__(self):
            return (print, ("this must never run",))

    path = tmp_path / "evil"
    path.write_bytes(pickle.dumps({b"data": Exploit(), b"labels": []}))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load builtins.print"):
        _ArrayUnpickler(path.open("rb"), encoding="bytes").load()


def test_missing_data_says_where_it_looked_and_how_to_fix_it(tmp_path, monkeypatch):
    def offline(name, root):
        raise OSError("[Errno -2] Name or service not known")

    monkeypatch.setattr("netspec.training.data._download", offline)
    with pytest.raises(DataNotFound) as caught:
        load_dataset("mnist", tmp_path / "empty")
    text = str(caught.value)
    assert str(tmp_path / "empty") in text and str(tmp_path / "empty" / "MNIST" / "raw") in text
    assert "download: failed (OSError: [Errno -2] Name or service not known)" in text
    assert "hint: pass --data-dir DIR where DIR holds the four IDX files (train-images-idx3-ubyte.gz" in text


def _idx(shape: tuple[int, ...], body: bytes) -> bytes:
    return b"\x00\x00\x08" + bytes([len(shape)]) + b"".join(d.to_bytes(4, "big") for d in shape) + body


def _sample_with(tmp_path, name: str, data: bytes, compress: bool = True) -> None:
    """The MNIST sample in `tmp_path` with the file `name` replaced by `data`."""
    for path in MNIST_SAMPLE.glob("*.gz"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / f"{name}.gz").unlink()
    (tmp_path / (f"{name}.gz" if compress else name)).write_bytes(gzip.compress(data) if compress else data)


@pytest.mark.parametrize("shape, body, message", [
    ((0, 28, 28), b"", r"expected at least one item; the IDX header gives shape \[0, 28, 28\]"),
    ((2**32 - 1, 2**32 - 1, 2**32 - 1, 2**32 - 1), b"x" * 100,  # np.prod wrapped this product to 1 before
     r"expected [\d,]+ bytes for shape \[4294967295, 4294967295, 4294967295, 4294967295\]; got 120"),
    ((65536, 65536, 65536), b"", r"expected [\d,]+ bytes for shape \[65536, 65536, 65536\]; got 16"),
])
def test_idx_headers_are_checked_before_anything_is_allocated(tmp_path, shape, body, message):
    (tmp_path / "raw").write_bytes(_idx(shape, body))
    with pytest.raises(TrainError, match=message):
        read_idx(tmp_path / "raw")


def test_a_gzip_header_claiming_more_than_deflate_can_hold_is_refused(tmp_path):
    (tmp_path / "bomb.gz").write_bytes(gzip.compress(_idx((60000, 28, 28), b"\x00" * 10)))
    with pytest.raises(TrainError, match=r"\(47,040,000 bytes\), more than a \d+-byte gzip file can hold"):
        read_idx(tmp_path / "bomb.gz")


def test_a_gzip_file_damaged_in_the_middle_is_a_clear_error(tmp_path):
    data = bytearray((MNIST_SAMPLE / "t10k-images-idx3-ubyte.gz").read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = bytes(64)  # zlib.error: invalid distance / block type
    (tmp_path / "damaged.gz").write_bytes(bytes(data))
    with pytest.raises(TrainError, match=r"expected a gzip-compressed IDX file; it is damaged"):
        read_idx(tmp_path / "damaged.gz")


def test_an_idx_set_with_no_images_is_refused(tmp_path):
    _sample_with(tmp_path, "t10k-images-idx3-ubyte", _idx((0, 28, 28), b""))
    with pytest.raises(TrainError, match="expected at least one item"):
        load_dataset("mnist", tmp_path, download=False)


def test_a_label_outside_the_classes_is_refused_naming_it(tmp_path):
    labels = gzip.decompress((MNIST_SAMPLE / "t10k-labels-idx1-ubyte.gz").read_bytes())
    damaged = bytearray(labels)
    damaged[8 + 7] = 200  # the 8th label
    _sample_with(tmp_path, "t10k-labels-idx1-ubyte", bytes(damaged), compress=False)
    with pytest.raises(TrainError, match=r"t10k-labels-idx1-ubyte: expected labels from 0 to 9; label 7 is 200"):
        load_dataset("mnist", tmp_path, download=False)


@pytest.mark.parametrize("label, message", [(10, r"expected labels from 0 to 9; label 1 is 10"),
                                            (10**30, r"expected a CIFAR-10 python batch .*could not read it")])
def test_a_cifar_label_outside_the_classes_is_refused(tmp_path, label, message):
    folder = write_cifar_folder(tmp_path, per_batch=4)
    with (folder / "test_batch").open("wb") as file:
        pickle.dump({b"data": np.zeros((2, 3072), np.uint8), b"labels": [3, label]}, file)
    with pytest.raises(TrainError, match=f"test_batch: {message}"):
        load_dataset("cifar10", tmp_path, download=False)
