"""Run one netspec command over many spec files in this process, measuring each: CPU seconds, wall
seconds and peak memory above the process's resident size before the case (Linux: /proc/self/clear_refs
resets the peak; elsewhere the peak is the process's own, an upper bound). Writes one JSON object.

    python measure.py OUT.json COMMAND [ARGS...] -- SPEC...     (each ARG may hold {out}, a scratch path)
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import resource
import signal
import sys
import time
from pathlib import Path

TIMEOUT = 60  # seconds of wall time before a case counts as a hang


def _kib(field: str) -> int:
    try:
        return int(re.search(rf"{field}:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))
    except (OSError, AttributeError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


class _Hang(Exception):
    pass


def _on_alarm(number, frame):
    raise _Hang


def run_case(command: list[str]) -> dict:
    from netspec.cli import main

    out, err = io.StringIO(), io.StringIO()
    sys.argv = ["netspec", *command]
    _reset_peak()
    before = _kib("VmRSS")
    cpu, wall = time.process_time(), time.perf_counter()
    signal.alarm(TIMEOUT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
        status = 0
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    except _Hang:
        status = "hang"
    finally:
        signal.alarm(0)
    return {"status": status, "cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall,
            "peak_mib": max(_kib("VmHWM") - before, 0) / 1024, "report": _report(out.getvalue()),
            "stderr": err.getvalue()[-2000:]}


def _report(stdout: str) -> dict | None:
    """What `check --json` said, in brief: its errors (code, line, column), layer count and output."""
    try:
        report = json.loads(stdout)
    except ValueError:
        return None
    errors = [(d["code"], d["line"], d["column"]) for d in report["diagnostics"] if d["severity"] == "error"]
    return {"errors": errors, "layers": len(report["layers"]), "output": report["output"]}


def main() -> None:
    target, rest = sys.argv[1], sys.argv[2:]
    split = rest.index("--")
    template, specs = rest[:split], rest[split + 1:]
    signal.signal(signal.SIGALRM, _on_alarm)
    import netspec.cli  # noqa: F401  imports (and torch, for export) are paid before the first case
    if template[0] == "export":
        import torch  # noqa: F401
    scratch = Path(target).parent
    results = {}
    for spec in specs:
        args = [arg.format(out=scratch / f"out{Path(spec).stem}") for arg in template]
        results[spec] = run_case([args[0], spec, *args[1:]])
    Path(target).write_text(json.dumps(results))


if __name__ == "__main__":
    main()
