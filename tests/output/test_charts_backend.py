"""Charts leave matplotlib's backend alone, so that figures show inline in Jupyter."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

INLINE = "module://matplotlib_inline.backend_inline"
MODULES = ("wijkkompas.output.charts", "wijkkompas.output.export",
           "wijkkompas.vlekkenkaart.vlekken", "wijkkompas.vlekkenkaart.stage")


def _backend_after_import(backend: str) -> str:
    code = ("import matplotlib\n"
            + "".join(f"import {m}\n" for m in MODULES)
            + "import matplotlib.pyplot as plt\n"
            + "print(matplotlib.get_backend())\n")
    env = {**os.environ, "MPLBACKEND": backend}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    return done.stdout.strip().splitlines()[-1]


def test_importing_the_output_stage_forces_no_backend():
    # The backend Jupyter's kernel sets stays the backend; so does any other choice.
    assert _backend_after_import(INLINE) == INLINE
    assert _backend_after_import("svg") == "svg"


def test_kompas_chart_is_a_pyplot_figure_and_the_contours_are_not(processed):
    import matplotlib.pyplot as plt

    from wijkkompas.output.charts import kompas_chart
    from wijkkompas.vlekkenkaart.vlekken import Density, vlekken

    plt.close("all")
    surface = Density(np.arange(0.0, 500.0, 50.0), np.arange(0.0, 500.0, 50.0),
                      np.outer(np.hanning(10), np.hanning(10)), 100.0, 50.0)
    shapes = vlekken(surface)
    assert len(shapes) == 4 and plt.get_fignums() == []  # computed without pyplot
    fig = kompas_chart(processed, "WK014115", 2015)
    # Known to pyplot, so Jupyter's inline backend shows it at the end of the cell.
    assert plt.get_fignums() == [fig.number]
    plt.close(fig)
