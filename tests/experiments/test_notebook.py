"""The walkthrough notebook: it runs without error and its committed copy is current (its page:
tests/site/test_walkthrough.py)."""

import jupytext
import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from snippets.experiments import notebook
from snippets.experiments.results import platform_info

COMMITTED = notebook.notebook_path()


def test_executing_saves_every_output_with_fixed_cell_ids(tmp_path, capsys):
    source = tmp_path / "tiny.py"
    source.write_text("# %% [markdown]\n# A title\n\n# %%\nprint(6 * 7)\n\n# %%\n1 / 0\n")
    with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
        notebook.execute(root=tmp_path, timeout=60, source=source)
    assert not notebook.notebook_path(tmp_path).exists(), "a failed run writes nothing"
    assert "notebook:  50%" in capsys.readouterr().err, "the bar counts code cells"

    source.write_text("# %% [markdown]\n# A title\n\n# %%\nprint(6 * 7)\n")
    assert notebook.execute(root=tmp_path, timeout=60, source=source) > 0
    bar = capsys.readouterr().err
    assert "notebook: 100%" in bar and "1/1 [" in bar
    saved = nbformat.read(notebook.notebook_path(tmp_path), as_version=4)
    assert [cell.id for cell in saved.cells] == ["cell-0", "cell-1"]
    assert saved.cells[1].outputs[0].text == "42\n"
    assert "execution" not in saved.cells[1].metadata, "no timestamps: reruns give the same file"


def output_kinds(cell) -> list[str]:
    """The kinds of a cell's outputs, a run of one stream counted once: the kernel may send
    what one print wrote as one message or as two."""
    kinds = []
    for out in cell.outputs:
        kind = f"stream:{out.name}" if out.output_type == "stream" else out.output_type
        if not kinds or kinds[-1] != kind or not kind.startswith("stream:"):
            kinds.append(kind)
    return kinds


def stdout(cell) -> str:
    """What a cell printed, however many stream messages the kernel sent it in."""
    return "".join(out.text for out in cell.outputs if out.output_type == "stream" and out.name == "stdout")


def test_output_kinds_counts_a_split_stream_once():
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="a\n"),
        nbformat.v4.new_output("stream", name="stdout", text="b\n"),
        nbformat.v4.new_output("display_data", data={"text/plain": "x"}),
        nbformat.v4.new_output("display_data", data={"text/plain": "y"}),
        nbformat.v4.new_output("stream", name="stderr", text="c\n"),
    ]
    assert output_kinds(cell) == ["stream:stdout", "display_data", "display_data", "stream:stderr"]


@pytest.mark.slow
def test_the_notebook_runs_and_reproduces_the_committed_file(tmp_path):
    """The real notebook, in a fresh kernel with a time limit; any error fails the test.

    On the platform that executed the committed copy, the new one is the same file, byte for
    byte. On any other, the cells and the kinds of output are the same, and the notebook's own
    comparison with the results file says it reproduced them within the tolerance."""
    notebook.execute(root=tmp_path, timeout=120)
    new = notebook.notebook_path(tmp_path)
    committed = nbformat.read(COMMITTED, as_version=4)
    if committed.metadata["platform"] == platform_info():
        assert new.read_bytes() == COMMITTED.read_bytes()
        return
    fresh = nbformat.read(new, as_version=4)
    assert [(c.cell_type, c.source) for c in fresh.cells] == [(c.cell_type, c.source) for c in committed.cells]
    for old, cell in zip(committed.cells, fresh.cells):
        if cell.cell_type == "code":
            assert output_kinds(cell) == output_kinds(old)
    assert stdout(fresh.cells[-1]).startswith("reproduced: True\n")
    assert fresh.metadata["platform"] == platform_info()


def test_the_committed_notebook_matches_its_source_and_has_its_outputs():
    source = jupytext.read(notebook.SOURCE)
    committed = nbformat.read(COMMITTED, as_version=4)
    assert [(c.cell_type, c.source) for c in committed.cells] == [(c.cell_type, c.source) for c in source.cells]
    code = [cell for cell in committed.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    for cell in code[1:]:  # the first cell only imports
        assert cell.outputs and all(out.output_type != "error" for out in cell.outputs), cell.source
    assert code[-1].outputs[0].text.startswith("reproduced: True\nlargest gap: ")
    # The platform it was executed on, so a re-run elsewhere knows not to expect the same bits.
    assert set(committed.metadata["platform"]) == set(platform_info())
    figure = next(out for cell in code for out in cell.outputs if "image/svg+xml" in out.get("data", {}))
    assert "<title>Seed 0: validation loss is lowest at epoch" in figure.data["image/svg+xml"]
