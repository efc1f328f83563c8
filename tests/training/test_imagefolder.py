"""Image folders: the layout, skipped files, channels and sizes, the cache, the stream, and training on them."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

import netspec
from netspec.training.errors import DataNotFound, TrainError
from netspec.training.imagefolder import load_image_folder, scan
from netspec.training.pipeline import gather, random_resized_crop

from .conftest import MNIST_SAMPLE, SPECS
from .folders import cache_in_tmp  # noqa: F401 (a fixture)
from .folders import FASHION, folder_and_idx_twins, invoke, tiny_spec, write_classes

CPU = torch.device("cpu")


pytestmark = pytest.mark.usefixtures("cache_in_tmp")


def _train_both(images, idx, dataset, tmp_path, epochs=2):
    """The same spec, seed and settings on the IDX files and on the folder (through the CLI)."""
    result = invoke("train", SPECS / "resnet_mini.yaml", "--dataset", images, "--epochs", epochs, "--device", "cpu",
                    "--out", tmp_path / "folder-run", "--no-tensorboard")
    assert result.exit_code == 0, result.output
    from_idx = netspec.train(SPECS / "resnet_mini.yaml", dataset, data_dir=idx, epochs=epochs, device="cpu",
                             out=tmp_path / "idx-run", progress=False, tensorboard=False)
    from_folder = json.loads((tmp_path / "folder-run" / "evaluation.json").read_text())
    return result.output, from_folder, from_idx


@pytest.mark.slow
def test_mnist_as_png_class_folders_trains_exactly_like_the_idx_files(tmp_path):
    images, idx = folder_and_idx_twins(MNIST_SAMPLE, "mnist", tmp_path, ".png")
    output, from_folder, from_idx = _train_both(images, idx, "mnist", tmp_path)
    assert "1,200 train, 400 test images, decoded in memory" in output
    assert from_folder["images"] == 400 and from_folder["classes"] == list("0123456789")
    assert from_folder["test_acc"] == from_idx.test_acc >= 0.6  # PNG is lossless: the very same run
    assert from_folder["confusion"] == from_idx.evaluation.confusion


@pytest.mark.slow
@pytest.mark.skipif(not FASHION.is_dir(), reason=f"Fashion-MNIST expected in {FASHION} (dataset-fashion-mnist)")
def test_fashion_mnist_as_jpeg_class_folders_reaches_the_idx_accuracy(tmp_path):
    images, idx = folder_and_idx_twins(FASHION, "fashion-mnist", tmp_path, ".jpg", limit=1500)
    output, from_folder, from_idx = _train_both(images, idx, "fashion-mnist", tmp_path)
    assert "Ankle boot" in from_folder["classes"]
    assert from_folder["test_acc"] == pytest.approx(from_idx.test_acc, abs=0.05)  # JPEG is lossy: close, not equal


def test_a_corrupt_file_and_a_text_file_are_skipped_and_each_named(tmp_path):
    root = write_classes(tmp_path / "data", {"cat": 6, "dog": 6, "eel": 6})
    (root / "cat" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (root / "dog" / "notes.txt").write_text("not an image")
    (root / ".DS_Store").write_bytes(b"\0")  # hidden files are ignored silently
    result = invoke("train", tiny_spec(tmp_path), "--dataset", root, "--out", tmp_path / "run", "--device", "cpu",
                    "--val-fraction", "0.2")
    assert result.exit_code == 0, result.output
    assert "skipped 2 files that are not readable images" in result.output
    assert f"{root / 'cat' / 'broken.png'} (unreadable:" in result.output
    assert f"{root / 'dog' / 'notes.txt'} (not an image file: suffix .txt)" in result.output
    assert ".DS_Store" not in result.output


def test_an_empty_class_and_classes_one_split_lacks_are_errors_naming_them(tmp_path):
    write_classes(tmp_path / "train", {"cat": 2, "dog": 2, "eel": 2})
    write_classes(tmp_path / "val", {"cat": 2, "dog": 2, "fox": 1})
    (tmp_path / "train" / "gnu").mkdir()
    with pytest.raises(TrainError) as error:
        scan(tmp_path)
    message = str(error.value)
    assert f"class folder {tmp_path / 'train' / 'gnu'} is empty" in message
    assert f"{tmp_path / 'val'} lacks the classes eel, gnu that train/ has" in message
    assert f"{tmp_path / 'val'} has classes that train/ lacks: fox" in message
    with pytest.raises(DataNotFound, match="there is no such folder"):
        scan(tmp_path / "nowhere")
    (tmp_path / "only-test" / "test").mkdir(parents=True)
    with pytest.raises(TrainError, match="expected a train/ folder beside test/"):
        scan(tmp_path / "only-test")


def test_the_cache_is_reused_until_the_folder_changes(tmp_path):
    root = write_classes(tmp_path / "data", {"a": 3, "b": 3})
    first = load_image_folder(root, 1, (8, 8), CPU, workers=0)
    assert any(note.startswith("cached in") for note in first.notes)
    second = load_image_folder(root, 1, (8, 8), CPU, workers=0)
    assert any("read from the cache" in note for note in second.notes)
    assert torch.equal(first.train_images, second.train_images)
    Image.new("L", (8, 8), 255).save(root / "a" / "000.png")  # same name, new content, size and mtime
    os.utime(root / "a" / "000.png", ns=(1, 1))
    third = load_image_folder(root, 1, (8, 8), CPU, workers=0)
    assert any(note.startswith("cached in") for note in third.notes)
    assert (third.train_images[0] == 255).all() and not torch.equal(third.train_images, first.train_images)
    assert len(list((tmp_path / "cache" / "imagefolder-cache").iterdir())) == 1  # the stale cache went


@pytest.mark.parametrize("workers", [0, 2])
def test_the_stream_gives_the_pixels_the_in_memory_path_decodes(tmp_path, workers):
    root = write_classes(tmp_path / "data", {"a": 5, "b": 4}, size=(11, 7), mode="RGB", suffix=".jpg")
    decoded = load_image_folder(root, 3, (8, 8), CPU, workers=workers)
    streamed = load_image_folder(root, 3, (8, 8), CPU, memory_budget=0, workers=workers)
    assert "streamed by" in streamed.notes[0] and len(streamed.train_images) == 9
    indices = [torch.tensor([3, 0, 8]), torch.tensor([5])]
    for index, batch in zip(indices, gather(streamed.train_images, indices)):
        assert batch.dtype == torch.uint8 and torch.equal(batch, decoded.train_images[index])
    assert torch.equal(streamed.train_labels, decoded.train_labels)


@pytest.mark.filterwarnings("ignore:The image decoding:DeprecationWarning")  # torchvision 0.29's, for torchcodec
def test_jpegs_decoded_on_the_device_in_one_batch_give_the_workers_pixels(tmp_path, monkeypatch):
    """The CUDA path's assembly (JPEG bytes decoded in one batched call, other files by the workers), run with
    torchvision's CPU decoder standing in for nvjpeg."""
    from torchvision.io import decode_jpeg

    from netspec.training import imagedecode

    write_classes(tmp_path / "data", {"a": 3, "b": 3}, size=(12, 9), mode="RGB", suffix=".jpg")
    write_classes(tmp_path / "data", {"a": 2, "b": 2}, size=(12, 9), mode="RGB", suffix=".png", seed=1)
    decoded = load_image_folder(tmp_path / "data", 3, (8, 8), CPU, workers=0)
    streamed = load_image_folder(tmp_path / "data", 3, (8, 8), CPU, memory_budget=0, workers=0)
    calls = []
    monkeypatch.setattr(imagedecode, "jpeg_decoded_on", lambda device: True)
    monkeypatch.setattr(imagedecode, "decode_jpegs_on_device",
                        lambda data, device: calls.append(len(data)) or decode_jpeg(data))
    everything = torch.arange(len(decoded.train_labels))
    batch, = gather(streamed.train_images, [everything])
    assert calls == [6] and torch.equal(batch, decoded.train_images)


def test_colours_are_converted_to_the_spec_channels_and_said_so(tmp_path):
    rgb = write_classes(tmp_path / "rgb", {"a": 2, "b": 2}, mode="RGB")
    grey = load_image_folder(rgb, 1, (8, 8), CPU, workers=0)
    assert "converted 4 RGB images to grayscale (the spec's input has 1 channel)" in grey.notes
    pixels = torch.from_numpy(np.array(Image.open(rgb / "a" / "000.png"))).permute(2, 0, 1).float()
    luma = (pixels * torch.tensor([0.2989, 0.587, 0.114]).view(3, 1, 1)).sum(0).round()
    assert torch.equal(grey.train_images[0, 0].float(), luma)
    gray = write_classes(tmp_path / "gray", {"a": 2, "b": 1})
    colour = load_image_folder(gray, 3, (8, 8), CPU, workers=0)
    assert "converted 3 grayscale images to RGB (the spec's input has 3 channels)" in colour.notes
    assert torch.equal(colour.train_images[:, 0], colour.train_images[:, 2])


def test_other_sizes_are_scaled_by_the_shorter_side_and_centre_cropped(tmp_path):
    (tmp_path / "data" / "a").mkdir(parents=True)
    wide = torch.zeros((1, 4, 12), dtype=torch.uint8)
    wide[..., 4:8] = 200  # a bright middle third: after scaling 4 -> 8 and cropping 24 -> 8 wide, all bright
    Image.fromarray(wide[0].numpy()).save(tmp_path / "data" / "a" / "wide.png")
    Image.fromarray(wide[0].numpy()).save(tmp_path / "data" / "a" / "same.png")
    data = load_image_folder(tmp_path / "data", 1, (8, 8), CPU, workers=0)
    assert data.train_images.shape == (2, 1, 8, 8) and (data.train_images[:, :, :, 1:-1] == 200).all()


def test_one_folder_is_split_by_val_fraction_and_predict_names_its_classes(tmp_path):
    root = write_classes(tmp_path / "data", {"cat": 10, "dog": 10, "eel": 10})
    result = netspec.train(tiny_spec(tmp_path), str(root), out=tmp_path / "run", device="cpu", progress=False,
                           val_fraction=0.2, epochs=2)
    assert result.evaluation.split == "val" and result.evaluation.total == 6  # no test/: judged on val
    assert "val_acc" in result.history[0]
    state = torch.load(result.checkpoint, weights_only=True)
    assert state["classes"] == ["cat", "dog", "eel"] and state["settings"]["data_dir"] == str(root.resolve())
    predicted = invoke("predict", tiny_spec(tmp_path), result.checkpoint, root / "eel" / "000.png", "--top", "3")
    assert predicted.exit_code == 0 and {"cat", "dog", "eel"} <= set(predicted.output.replace(",", " ").split())
    evaluated = invoke("eval", tiny_spec(tmp_path), result.checkpoint, "--json")  # the run's folder, remembered
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.output) == json.loads((tmp_path / "run" / "evaluation.json").read_text())


def test_a_spec_with_other_classes_is_told_the_folder_classes(tmp_path):
    root = write_classes(tmp_path / "data", {"cat": 2, "dog": 2})
    result = invoke("train", tiny_spec(tmp_path, classes=3), "--dataset", root, "--out", tmp_path / "run")
    assert result.exit_code == 1 and "expected the network to output [2]" in result.output
    assert "cat, dog" in result.output and not (tmp_path / "run").exists()


def test_random_resized_crops_differ_per_image_and_keep_the_whole_image_at_full_area():
    images = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).view(2, 3, 6, 6)
    whole = random_resized_crop(images, 1.0, torch.Generator().manual_seed(0), ratios=(1.0, 1.0))
    assert torch.allclose(whole, images, atol=1e-4)
    batch = images[:1].expand(16, -1, -1, -1)
    crops = random_resized_crop(batch, 0.1, torch.Generator().manual_seed(0))
    assert crops.shape == batch.shape and len({tuple(c.flatten()[:5].tolist()) for c in crops}) == 16
    assert crops.min() >= images.min() and crops.max() <= images.max()
    again = random_resized_crop(batch, 0.1, torch.Generator().manual_seed(0))
    assert torch.equal(crops, again)


def test_a_folder_is_named_by_its_path_or_by_imagefolder_with_data_dir(tmp_path):
    from netspec.training.settings import dataset_and_folder

    assert dataset_and_folder(str(tmp_path), None) == ("imagefolder", tmp_path)
    assert dataset_and_folder("imagefolder", tmp_path) == ("imagefolder", tmp_path)
    assert dataset_and_folder("mnist", tmp_path) == ("mnist", tmp_path)
    with pytest.raises(TrainError, match="expected --data-dir PATH with --dataset imagefolder"):
        dataset_and_folder("imagefolder", None)
    with pytest.raises(TrainError, match="or a folder of class folders; got 'imagenet'"):
        dataset_and_folder("imagenet", None)
    with pytest.raises(TrainError, match="expected the image folder once"):
        dataset_and_folder(str(tmp_path), tmp_path / "other")
