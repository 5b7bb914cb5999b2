"""The analysts' starting notebook runs top to bottom against a built warehouse."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "explore_warehouse.ipynb"


def test_notebook_runs_read_only_and_draws_its_chart(built, monkeypatch):
    assert built.exit_code == 0, built.output
    monkeypatch.setenv("SCORECARD_DB", str(built.settings.db_path))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs)
    scorecard_output = notebook.cells[3].outputs[0]["data"]["text/plain"]
    assert "rereferral_pct" in scorecard_output
