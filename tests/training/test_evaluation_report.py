"""How an evaluation is shown: every class and the whole matrix for a few classes, a digest for many
(a 1,000-class folder must not print a million cells, nor draw a thousand names on each axis)."""

from __future__ import annotations

import random

from netspec.training.metrics import DIGEST_ROWS, PRINTED_CLASSES, Evaluation
from netspec.training.pictures import NAMED_CLASSES, confusion_figure, plot_confusion


def evaluation(classes: int, seed: int = 0) -> Evaluation:
    rng = random.Random(seed)
    confusion = [[rng.randrange(4) + (40 + rng.randrange(20)) * (true == predicted) for predicted in range(classes)]
                 for true in range(classes)]
    return Evaluation(0.5, confusion, tuple(f"class_{index:04d}" for index in range(classes)))


def test_a_few_classes_print_every_class_and_the_whole_matrix():
    text = evaluation(PRINTED_CLASSES).render()
    assert text.count("class_") == 2 * PRINTED_CLASSES  # once in the accuracy table, once as a matrix row
    assert "confusion matrix (rows: true class, columns: predicted):" in text


def test_many_classes_print_the_lowest_accuracies_and_the_largest_confusions():
    result = evaluation(300)
    lines = result.render().splitlines()
    assert len(lines) < 40 and max(map(len, lines)) < 100
    accuracies = sorted((row[index] / sum(row), result.classes[index]) for index, row in enumerate(result.confusion))
    shown = lines[lines.index("per-class accuracy, the 10 lowest of 300 classes:") + 1:][:DIGEST_ROWS]
    assert [line.split() for line in shown] == [[name, f"{value:.2%}"] for value, name in accuracies[:DIGEST_ROWS]]
    # the largest off-diagonal count first; among equal counts, in the order of (true, predicted)
    mixed = sorted((-cell, true, predicted) for true, row in enumerate(result.confusion)
                   for predicted, cell in enumerate(row) if true != predicted and cell)[:DIGEST_ROWS]
    shown = lines[lines.index("most confused (true -> predicted: images):") + 1:][:DIGEST_ROWS]
    assert [line.split() for line in shown] == [[result.classes[true], "->", result.classes[predicted], str(-cell)]
                                                for cell, true, predicted in mixed]
    assert lines[-1] == "the whole 300 x 300 confusion matrix: `netspec eval --json`, or a run's evaluation.json"


def test_the_picture_names_a_few_classes_and_indexes_many(tmp_path):
    few = confusion_figure(evaluation(NAMED_CLASSES), "net").axes[0]
    assert [label.get_text() for label in few.get_yticklabels()] == list(evaluation(NAMED_CLASSES).classes)
    many = confusion_figure(evaluation(1000), "net")
    many.canvas.draw()  # the locator picks its ticks when drawn
    labels = [label.get_text() for label in many.axes[0].get_xticklabels()]
    assert 2 <= len(labels) <= 12 and all(text.lstrip("−-").isdigit() for text in labels), labels
    plot_confusion(tmp_path, evaluation(1000), "net")
    assert (tmp_path / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
