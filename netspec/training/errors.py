"""Errors a training run reports to its user, each with the exit code `netspec train` ends with.

Torch-free, so the CLI can import it without loading torch.
"""

from __future__ import annotations

# Exit codes of `netspec train`, `eval` and `predict` (documented in the README and in --help).
EXIT_OK = 0
EXIT_BAD_INPUT = 1  # spec errors, missing data, shape mismatch, bad checkpoint, unwritable --out
EXIT_DIVERGED = 3  # the loss became NaN or infinite
EXIT_OUT_OF_MEMORY = 4  # the device ran out of memory
EXIT_INTERRUPTED = 130  # Ctrl-C: the step finished and a checkpoint was written (128 + SIGINT)
EXIT_TERMINATED = 143  # SIGTERM: the same (128 + SIGTERM)


class TrainError(Exception):
    """A problem the user can fix; `str(error)` says what happened and what to do."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class DataNotFound(TrainError):
    """No copy of the dataset in any place looked at, and no download possible."""


class CheckpointError(TrainError):
    """A checkpoint that is missing, truncated, corrupt, unsafe, or made for another network."""


class Diverged(TrainError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""

    exit_code = EXIT_DIVERGED


class OutOfMemory(TrainError):
    exit_code = EXIT_OUT_OF_MEMORY


def is_out_of_memory(error: BaseException) -> bool:
    """CUDA's OutOfMemoryError, or the CPU allocator's, which torch raises as a plain RuntimeError."""
    return type(error).__name__ == "OutOfMemoryError" or (
        isinstance(error, RuntimeError) and "can't allocate memory" in str(error))
