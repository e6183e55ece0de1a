"""Rewrite the ``#>`` comment lines of snippet files from what they really print.

    python -m tests.site.update_outputs snippets/dropout/inverted.py [...]

Each ``print`` call in a snippet is followed by its ``#>`` lines. The script runs the file,
then hands out the printed lines to the ``#>`` blocks, one block per print call. A loop with
two prints gets its output grouped per call, not interleaved: write such ``#>`` lines by hand.
Review the diff: the test exists so that a change of output is seen, not silently accepted.
"""

import ast
import contextlib
import io
import runpy
import sys
from pathlib import Path


def print_calls_in_order(source: str) -> dict[int, int]:
    """Last line (1-based) of each print() statement -> the column the statement starts at."""
    calls = {}
    for node in ast.walk(ast.parse(source)):
        call = node.value if isinstance(node, ast.Expr) else None
        if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "print":
            calls[node.end_lineno] = node.col_offset
    return dict(sorted(calls.items()))


def update(path: Path) -> None:
    path = path.resolve()
    source = path.read_text(encoding="utf-8")
    calls = print_calls_in_order(source)
    out_by_call: dict[int, list[str]] = {line: [] for line in calls}
    # Tag each print with the line that made it, by tracing the print builtin.
    import builtins

    real_print = builtins.print
    buffer = io.StringIO()

    def tagging_print(*args, **kwargs):
        frame = sys._getframe(1)
        target = next((c for c in calls if c >= frame.f_lineno and frame.f_code.co_filename == str(path)), None)
        text = io.StringIO()
        real_print(*args, **{**kwargs, "file": text})
        if target is not None:
            out_by_call[target].extend(text.getvalue().rstrip("\n").split("\n"))

    builtins.print = tagging_print
    try:
        with contextlib.redirect_stdout(buffer):
            runpy.run_path(str(path), run_name="__main__")
    finally:
        builtins.print = real_print

    new_lines = []
    old = source.splitlines()
    i = 0
    while i < len(old):
        line = old[i]
        if line.strip() == "#>" or line.strip().startswith("#> "):
            i += 1
            continue
        new_lines.append(line)
        if (i + 1) in out_by_call:
            indent = " " * calls[i + 1]
            new_lines.extend(f"{indent}#> {text}".rstrip() for text in out_by_call[i + 1])
        i += 1
    path.write_text("\n".join(new_lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        update(Path(name))
