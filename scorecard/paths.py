"""Where the project's own files are: the code tree, not configuration (that is ``pipelines.settings``)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "sql"
# The record of what committee reports showed, beside the warehouse (scorecard.model.reported).
REPORTED_FIGURES_FILE = "reported_figures.csv"
