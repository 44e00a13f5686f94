"""Measuring one step in its own clean process: wall time and peak memory.

Each step runs in a fresh interpreter (``subprocess`` starts ``python -c CODE``). At the end
the child prints its VmHWM from /proc/self/status: the peak resident memory of that
process alone. (``ru_maxrss`` of the child would carry the parent's peak across
fork+exec, which made the old read-only figure 629 MiB instead of about 210.)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

PEAK = """
for _line in open("/proc/self/status"):
    if _line.startswith("VmHWM:"):
        print("VMHWM", int(_line.split()[1]))
"""


@dataclass
class Run:
    seconds: float
    peak_mib: float
    output: str


def fresh(code: str, *args: str) -> Run:
    """Run ``code`` in a new Python; its wall time, peak memory and what it printed."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code + "\n" + PEAK, *args],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"step failed ({done.returncode}):\n{done.stderr[-2000:]}")
    lines = done.stdout.splitlines()
    peak = next(int(x.split()[1]) for x in reversed(lines) if x.startswith("VMHWM"))
    output = "\n".join(x for x in lines if not x.startswith("VMHWM")).strip()
    return Run(seconds, peak / 1024, output)


def median_of(runs: list[Run]) -> Run:
    """Median time and median peak of repeated runs (output of the first)."""
    return Run(statistics.median(r.seconds for r in runs),
               statistics.median(r.peak_mib for r in runs), runs[0].output)


def repeated(code: str, args: list[str], times: int) -> Run:
    return median_of([fresh(code, *args) for _ in range(times)])
