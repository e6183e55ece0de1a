"""The walkthrough notebook: its percent-format source, executed, saved
with its outputs."""

import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient
from tqdm import tqdm

from snippets.experiments.results import DOCS, atomic_write, platform_info

SOURCE = (
    DOCS / "experiments" / "overfitting_walkthrough.py"
)  # what a person edits and reviews
# Seconds per cell: a hung kernel fails the run instead of blocking it.
TIMEOUT = 300


def notebook_path(root: Path = DOCS) -> Path:
    return root / "experiments" / "overfitting_walkthrough.ipynb"


# --8<-- [start:execute]
def execute(
    root: Path = DOCS, timeout: int = TIMEOUT, source: Path = SOURCE
) -> float:
    """Run every cell in a fresh kernel (any error raises); write the
    .ipynb; return the seconds it took."""
    notebook = jupytext.read(source)
    for number, cell in enumerate(notebook.cells):
        # nbformat draws random ids; fixed ones keep the file stable.
        cell.id = f"cell-{number}"
    code = sum(cell.cell_type == "code" for cell in notebook.cells)
    bar = tqdm(total=code, desc="notebook", unit="cell")
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={
            "metadata": {"path": str(DOCS.parent)}
        },  # the kernel starts in the repository
        # The kernel listens on 127.0.0.1 only; its warning about
        # unencrypted TCP is noise here.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        on_cell_executed=lambda **_: bar.update(),  # after each code cell
    )
    start = time.perf_counter()
    with bar:
        client.execute()
    seconds = time.perf_counter() - start
    # The kernel inherits this process's environment, so its platform.
    notebook.metadata["platform"] = platform_info()
    atomic_write(
        notebook_path(root),
        (nbformat.writes(notebook) + "\n").encode("utf-8"),
    )
    return seconds


# --8<-- [end:execute]


def main() -> None:
    # --8<-- [start:demo]
    cells = jupytext.read(SOURCE).cells
    print(
        f"{sum(c.cell_type == 'code' for c in cells)} code cells, "
        f"{sum(c.cell_type == 'markdown' for c in cells)} markdown cells"
    )
    #> 7 code cells, 7 markdown cells
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
