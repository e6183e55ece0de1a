"""A pytest plugin (``-p docs_hooks.pytest_preload``, pyproject.toml) that imports the test
run's heavy third-party libraries in each xdist worker before coverage starts.

pytest-cov starts coverage in ``pytest_load_initial_conftests``; from then on Python 3.11
runs every line of every module under coverage's tracer, about 1.7 times slower, whether
the module is measured or not. Importing torch, SciPy, Matplotlib, Hypothesis and Markdown
takes about 4 s of each worker's collection; imported here, before the tracer is set, they
cost what they cost without coverage. Nothing measured (``snippets``) is imported here, so
what coverage sees does not change. The xdist controller imports nothing: it only hands out
the tests, and starts its workers sooner without torch.
"""

import importlib
import os

HEAVY = (
    "torch",
    "torch._inductor.config",  # torch.use_deterministic_algorithms imports it: 3 s
    "numpy",
    "scipy.stats",
    "sklearn.datasets",
    "matplotlib.pyplot",
    "hypothesis",
    "markdown",
    "mkdocs.commands.build",
)

if os.environ.get("PYTEST_XDIST_WORKER"):
    for name in HEAVY:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional library missing: the tests that need it say so
            pass
