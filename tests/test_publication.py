"""The build's final message is true: it names what was published (warehouse, charts, reports) and
what was not, and never says the warehouse is unchanged when it changed. Each output folder is
made unwritable in turn (a file where the folder should be: these tests may run as root, whom
file modes do not stop)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from pipelines.cli import Publication
from scorecard.publish.charts import png_staging_dir
from tests.conftest import build_cli, make_settings


def build(settings) -> tuple[int, str]:
    """A forced build: nothing in the raw folder changed, and it rebuilds all the same."""
    return build_cli(settings, "--force")


def make_unwritable(folder: Path) -> None:
    shutil.rmtree(folder)
    folder.write_text("not a folder\n", encoding="utf-8")


def shows_build(settings) -> dict:
    return json.loads((settings.out_dir / "publication.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("unwritable", "published", "not_published"), [
    ("charts", ["warehouse"], ["charts", "reports"]),
    ("reports", ["warehouse", "charts"], ["reports"]),
])
def test_an_unwritable_output_folder_is_named_and_the_rest_is_said_to_be_published(
        copy_of_built, unwritable, published, not_published):
    settings = copy_of_built
    warehouse_before = settings.db_path.stat().st_mtime_ns
    make_unwritable(settings.out_dir / unwritable)
    code, output = build(settings)
    assert code == 1, output
    assert "not changed" not in output
    assert settings.db_path.stat().st_mtime_ns != warehouse_before  # it was replaced, and is said to be
    for name in published:
        assert f"Published {name}:" in output
    for name in not_published:
        assert f"NOT published {name}:" in output
        assert "still shows an earlier build" in output
    assert f"{unwritable}" in output.split(f"NOT published {unwritable}:")[1].splitlines()[0]
    if unwritable == "charts":  # no PNG was drawn for charts that could not be written
        assert not list(png_staging_dir(settings.charts_dir).glob("*.png"))
    marked = shows_build(settings)
    assert marked["current"] == {name: name in published for name in ("warehouse", "charts", "reports")}
    assert marked["shows_build"]["warehouse"] == marked["last_build"]


def test_a_warehouse_that_cannot_be_replaced_is_said_to_be_unchanged_and_nothing_else_is_drawn(copy_of_built):
    settings = copy_of_built
    settings.db_path.unlink()
    settings.db_path.mkdir()  # a folder where the warehouse file should be: it cannot be replaced
    code, output = build(settings)
    assert code == 1, output
    assert "NOT published warehouse:" in output
    assert "the published warehouse was not changed" in output
    assert "NOT published charts:" in output and "NOT published reports:" in output
    assert settings.db_path.is_dir()


def test_the_message_says_so_when_the_warehouse_was_replaced_before_a_failure(tmp_path):
    publication = Publication(built_at="2026-12-03T07:00:00+00:00",
                              published={"warehouse": False, "charts": False, "reports": False},
                              failures={"warehouse": "OSError: could not sync the folder"},
                              warehouse_replaced=True, notes=[])
    lines = publication.lines(make_settings(tmp_path))
    assert lines[0] == ("NOT published warehouse: OSError: could not sync the folder; "
                        "it WAS replaced by this build before the failure.")
    assert all("not changed" not in line for line in lines)


def test_a_complete_build_says_each_output_is_published(built):
    assert built.exit_code == 0, built.output
    for name in ("warehouse", "charts", "reports"):
        assert f"Published {name}:" in built.output
    assert "NOT published" not in built.output
    assert shows_build(built.settings)["current"] == {"warehouse": True, "charts": True, "reports": True}


def test_a_browser_that_never_answers_costs_its_pngs_not_the_build_and_the_next_build_draws_them(
        copy_of_built, tmp_path, monkeypatch):
    settings = copy_of_built
    owed = sorted((settings.charts_dir / "E06000057").glob("*.png"))[:3]
    for png in owed:
        png.unlink()
    silent = tmp_path / "silent-chromium"
    silent.write_text("#!/bin/sh\nexec sleep 600\n", encoding="utf-8")
    silent.chmod(0o755)
    monkeypatch.setenv("BROWSER_PATH", str(silent))
    monkeypatch.setenv("SCORECARD_BROWSER_TIMEOUT", "3")
    started = time.monotonic()
    code, output = build(settings)
    assert time.monotonic() - started < 120, "the build waited on the browser"
    assert code == 1, output
    assert "Published warehouse:" in output and "Published charts:" in output and "Published reports:" in output
    assert "PNG export: Chromium gave no answer within 3 s" in output
    assert "3 PNGs are missing" in output
    assert not any(png.exists() for png in owed)

    monkeypatch.delenv("BROWSER_PATH")
    monkeypatch.delenv("SCORECARD_BROWSER_TIMEOUT")  # (the real browser, with the default bound)
    # Not forced, and nothing changed: the last build was incomplete, so this one runs all the same.
    code, output = build_cli(settings)
    assert code == 0, output
    assert all(png.read_bytes().startswith(b"\x89PNG") for png in owed)


def test_without_chart_images_a_machine_without_chromium_publishes_everything_else(copy_of_built, monkeypatch):
    settings = copy_of_built
    monkeypatch.setenv("BROWSER_PATH", str(settings.out_dir / "no-browser-here"))
    monkeypatch.setenv("SCORECARD_CHART_IMAGES", "off")
    code, output = build(settings)
    assert code == 0, output
    for name in ("warehouse", "charts", "reports"):
        assert f"Published {name}:" in output
    assert "PNG" not in output and "NOT published" not in output
    assert not list(settings.charts_dir.rglob("*.png")) and list(settings.charts_dir.rglob("*.html"))
    report = (settings.reports_dir / "northumberland.html").read_text(encoding="utf-8")
    assert "data:image/png" not in report
    assert "No chart image: the charts were drawn without PNG export" in report
    assert shows_build(settings)["current"] == {"warehouse": True, "charts": True, "reports": True}

    monkeypatch.setenv("SCORECARD_CHART_IMAGES", "sometimes")
    code, output = build(settings)
    assert code != 0 and "SCORECARD_CHART_IMAGES: write on or off, found 'sometimes'" in output
