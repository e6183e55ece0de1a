"""The recipe table: the page shows exactly the values of the snippet's data structure, every
recipe names its source, and nothing is filled in that the sources do not give."""

from pathlib import Path

import pytest

from snippets.modern import recipes

PAGE = Path(__file__).resolve().parents[2] / "docs" / "modern" / "recipes.md"


def page_table() -> list[list[str]]:
    """The first Markdown table of the page, as rows of cells (the separator row left out)."""
    lines = [line for line in PAGE.read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    return [row for row in rows if not all(set(cell) <= {"-"} for cell in row)]


@pytest.mark.claim("modern/recipes-table")
def test_the_page_table_is_the_data_structure():
    assert page_table() == recipes.markdown_table()


def test_every_recipe_names_its_source_and_every_setting():
    recipes.check_recipes()
    for recipe in recipes.RECIPES.values():
        assert set(recipe) == {"source", *recipes.COLUMNS}
    with pytest.raises(ValueError, match="X: no source, dropout"):
        recipes.check_recipes({"X": {c: "1" for c in recipes.COLUMNS if c != "dropout"}})


def test_the_values_read_in_the_sources():
    """Spot checks of the values against the quoted text: survival 0.8 is a drop rate of 0.2,
    and the settings the EfficientNet paragraph does not name stay 'not stated'."""
    efficientnet, convnext, deit = recipes.RECIPES.values()
    assert efficientnet["stochastic depth"].startswith("0.2") and "0.8" in efficientnet["stochastic depth"]
    for column in ("mixup α", "CutMix α", "label smoothing", "EMA decay"):
        assert efficientnet[column] == recipes.NOT_STATED
    assert convnext["EMA decay"].startswith("0.9999") and convnext["dropout"] == recipes.NOT_STATED
    assert deit["EMA decay"].startswith(recipes.NOT_STATED)
    assert "048efce" in convnext["source"] and "Table 9" in deit["source"]
