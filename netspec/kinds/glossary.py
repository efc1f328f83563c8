"""What each field means, for editors (hover in the JSON Schema) and `netspec schema`.

Field names are torch's and mean the same in every kind that has them (a conv's and a
pool's `stride` are one idea), so they are described once here. A kind whose field means
something of its own says so with pydantic's `Field(description=...)`, which wins.
"""

from __future__ import annotations

LAYER_FIELDS = {
    "kind": "The layer kind (see `netspec schema` or the README's kind table).",
    "out_channels": "Number of output channels (filters) this layer computes.",
    "out_features": "Number of output features.",
    "kernel_size": "Window size: an int for a square window or [height, width].",
    "stride": "Step between windows: an int or [height, width].",
    "padding": "Zeros added on each side: an int, [height, width], or for conv `same` / `valid`.",
    "output_padding": "Extra rows/columns added to one side of the output (transposed convolution only).",
    "dilation": "Spacing between the window's taps (1: a dense window): an int or [height, width].",
    "groups": "Split the channels into this many groups convolved separately (in_channels for depthwise).",
    "bias": "Learn an additive bias (false when a batchnorm follows).",
    "ceil_mode": "Round the output size up instead of down (PyTorch's rule: the last window starts inside the input).",
    "count_include_pad": "Count the zero padding in each average.",
    "output_size": "Output height and width: an int or [height, width].",
    "negative_slope": "Slope for negative inputs.",
    "approximate": "`none` for the exact GELU, `tanh` for its tanh approximation.",
    "dim": "Dimension to normalise over, counting the batch dimension as torch does (1: channels/features).",
    "eps": "Added to the variance for numerical stability.",
    "momentum": "Weight of the current batch in the running statistics (torch's convention; null: cumulative average).",
    "affine": "Learn a per-channel scale and shift.",
    "size": "Number of neighbouring channels to normalise over.",
    "alpha": "Multiplicative factor (torch divides it by size).",
    "beta": "Exponent.",
    "k": "Additive constant.",
    "p": "Probability of zeroing an element while training (0 <= p <= 1).",
    "in_channels": "Optional: inferred from the previous layer, and checked when given.",
    "in_features": "Optional: inferred from the previous layer, and checked when given.",
    "num_features": "Optional: inferred from the previous layer, and checked when given.",
    "branches": "Parallel layer lists run on the current input: a list, or a mapping whose keys name the branches.",
    "inputs": "Names of earlier layers to join instead of branches.",
}

TRAIN_FIELDS = {
    "kind": "The learning-rate schedule.",
    "optimizer": "sgd, adam or adamw.",
    "lr": "Learning rate (> 0).",
    "momentum": "SGD momentum (0 <= momentum < 1).",
    "nesterov": "Use Nesterov momentum (SGD).",
    "weight_decay": "L2 penalty (>= 0).",
    "epochs": "Passes over the training set.",
    "batch_size": "Images per step (split across ranks in data-parallel runs).",
    "schedule": "Learning-rate schedule: a kind (`cosine`) or a mapping with its fields.",
    "label_smoothing": "Share of the target spread over the other classes (0 <= x < 1).",
    "augment": "Random training-time augmentations.",
    "horizontal_flip": "Flip half the training images left to right.",
}
