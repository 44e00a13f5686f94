"""Benchmark: start-up of the command line, ``wijkkompas --help`` and ``--version``, against
``python -c pass`` (the interpreter alone), each a whole fresh process, interleaved, median
of ``--repeat`` runs. Also counts the modules ``--help`` imports. Run:

    python benchmarks/startup.py --repeat 15
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "wijkkompas --help": [sys.executable, "-m", "wijkkompas.cli", "--help"],
    "wijkkompas --version": [sys.executable, "-m", "wijkkompas.cli", "--version"],
    "wijkkompas build --help": [sys.executable, "-m", "wijkkompas.cli", "build", "--help"],
}

COUNT = """
import sys
from wijkkompas.cli import main
try:
    main(["--help"])
except SystemExit:
    pass
print(len(sys.modules), file=sys.stderr)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeat):
        for name, command in COMMANDS.items():
            start = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True)
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["python -c pass"])
    print("| command | median | min | ratio to python -c pass |")
    print("|---|---|---|---|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| `{name}` | {median:.3f} s | {min(values):.3f} s | {median / base:.1f}x |")
    done = subprocess.run([sys.executable, "-c", COUNT], capture_output=True, text=True,
                          check=True)
    print(f"modules loaded after --help: {done.stderr.strip()}")


if __name__ == "__main__":
    main()
