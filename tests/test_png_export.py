"""PNG export never hangs a build (issue 14): every wait on the browser is bounded, a browser
that gives no answer is killed, and the charts go on without the PNGs it did not draw."""

from __future__ import annotations

import ast
import io
import json
import os
import shutil
import signal
import struct
import threading
import time
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from scorecard.publish import png_renderer
from scorecard.publish.charts import png_staging_dir, start_pngs, write_charts
from scorecard.publish.images import EmbeddableCharts, embeddable_png
from scorecard.publish.png_renderer import MANIFEST, PngExportError, PngRenderer, read_manifest
from tests.test_charts import EXPECTED, HARTLEPOOL, NORTHUMBERLAND, make_marts

BOUND = 3.0  # seconds: the bounds these tests give a renderer with a real Chromium
SILENT_BOUND = 1.0  # and with a browser that never answers (nothing to wait for but the bound)
MARGIN = 10.0  # beyond a bound, for the caller to get its answer back (killing included) on a busy machine;
# far below the never-answering browser's 600 s, so a wait without a bound still fails.

# A Chromium that starts and then never says a word.
SILENT_BROWSER = "#!/bin/sh\nexec sleep 600\n"


def silent_renderer() -> PngRenderer:
    """A renderer given SILENT_BOUND for everything, for a browser that never answers."""
    return PngRenderer(startup_timeout=SILENT_BOUND, png_timeout=SILENT_BOUND, close_timeout=SILENT_BOUND)


def real_chromium() -> str | None:
    return shutil.which("chromium") or ("/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None)


needs_chromium = pytest.mark.skipif(
    real_chromium() is None,
    reason="drawing PNGs needs a real Chromium: install Debian's `chromium` package (make chromium)")


@pytest.fixture()
def silent_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """BROWSER_PATH set to a browser that never answers."""
    path = tmp_path / "silent-chromium"
    path.write_text(SILENT_BROWSER, encoding="utf-8")
    path.chmod(0o755)
    monkeypatch.setenv("BROWSER_PATH", str(path))
    return path


@pytest.fixture()
def chromium(monkeypatch: pytest.MonkeyPatch) -> str:
    """The real Chromium, found as the renderer finds it."""
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    path = png_renderer.find_browser()
    assert path is not None
    return path


# The shared renderer's thread (``answering_renderer``), which outlives the tests that use it.
SHARED_RENDERER_THREADS: set[threading.Thread] = set()


@pytest.fixture(scope="module")
def answering_renderer():
    """One real Chromium, shared by the tests that only need a browser that answers (each start
    costs seconds of both cores). Tests of starting, stopping and killing start their own."""
    if real_chromium() is None:
        pytest.skip("drawing PNGs needs a real Chromium: install Debian's `chromium` package (make chromium)")
    before = set(threading.enumerate())
    with PngRenderer(browser_path=real_chromium()) as renderer:
        SHARED_RENDERER_THREADS.update(set(threading.enumerate()) - before)
        yield renderer


def figure(k: int = 1) -> dict:
    return {"data": [{"type": "scatter", "x": list(range(12)), "y": [(i * k) % 7 for i in range(12)]}],
            "layout": {"title": {"text": f"Figure {k}"}}}


def live_group_members(pgid: int) -> list[int]:
    """Processes (not zombies) in the process group ``pgid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            state, _, group = stat[stat.rindex(")") + 2:].split()[:3]
        except (OSError, ValueError):
            continue
        if int(group) == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def renderer_threads() -> list[threading.Thread]:
    """The renderers' threads alive now, but the shared renderer's (``answering_renderer``)."""
    return [t for t in threading.enumerate()
            if t.name == "png-renderer" and t.is_alive() and t not in SHARED_RENDERER_THREADS]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


# --- the browser -----------------------------------------------------------------------------


def test_browser_path_is_honoured_and_a_bad_one_is_named(tmp_path: Path, monkeypatch, silent_browser) -> None:
    assert png_renderer.find_browser() == str(silent_browser)
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no such browser"))
    assert png_renderer.find_browser() is None
    with pytest.raises(RuntimeError, match="BROWSER_PATH=.*no such browser.* is not an executable file"):
        png_renderer.require_browser()


def test_the_renderer_uses_only_public_names_of_kaleido_choreographer_and_plotly() -> None:
    """No ``_private`` name of theirs: imported, or read off any object but the renderer's own."""
    def theirs(module: str) -> bool:
        return module.split(".")[0] in ("kaleido", "choreographer", "plotly", "logistro")

    tree = ast.parse(Path(png_renderer.__file__).read_text(encoding="utf-8"))
    private = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and theirs(node.module):
            private += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
            private += [node.module] if any(part.startswith("_") for part in node.module.split(".")) else []
        elif isinstance(node, ast.Import):
            private += [a.name for a in node.names
                        if theirs(a.name) and any(p.startswith("_") for p in a.name.split("."))]
        elif (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
              and not (isinstance(node.value, ast.Name) and node.value.id == "self")):
            private.append(ast.unparse(node))
    assert private == []


def test_a_browser_that_never_answers_is_given_up_within_the_bound(tmp_path: Path, silent_browser) -> None:
    (tmp_path / NORTHUMBERLAND).mkdir()
    path = tmp_path / NORTHUMBERLAND / "cpp_neglect_pct.png"
    started = time.monotonic()
    renderer = silent_renderer()
    try:
        renderer.add(figure(), path)
        outcome = renderer.collect()
        waited = time.monotonic() - started
        assert waited < SILENT_BOUND + MARGIN, f"collect took {waited:.1f} s with a {SILENT_BOUND:g} s bound"
        assert [m.name for m in outcome.missing] == [f"{NORTHUMBERLAND}/cpp_neglect_pct"]
        assert not outcome.drawn and not path.exists()
        message = outcome.message("the HTML charts are written")
        assert message == (f"PNG export: Chromium gave no answer within 1 s for {NORTHUMBERLAND}/cpp_neglect_pct "
                           "(it was starting); the HTML charts are written; 1 PNG is missing")
        # Given up: a figure added now is reported at once, without waiting on the browser.
        again = time.monotonic()
        renderer.add(figure(2), tmp_path / "later.png")
        later = renderer.collect()
        assert time.monotonic() - again < 1
        assert later.missing[0].reason == "not drawn: Chromium did not start within 1 s"
        with pytest.raises(PngExportError, match="gave no answer within 1 s") as raised:
            renderer.draw([(figure(3), tmp_path / "drawn.png")])
        assert [m.path for m in raised.value.outcome.missing] == [tmp_path / "drawn.png"]
        pid = renderer.browser_pid
    finally:
        closing = time.monotonic()
        renderer.close()
    assert time.monotonic() - closing < SILENT_BOUND + 2 * MARGIN
    assert renderer_threads() == []
    assert pid is not None and live_group_members(pid) == []  # no `sleep 600` left behind


@needs_chromium
def test_a_browser_that_stops_answering_while_drawing_is_killed_and_named(tmp_path: Path, chromium) -> None:
    """Chromium starts, then freezes (SIGSTOP): the figure it holds is given up after its bound,
    the browser is killed, and every figure after it is reported, not waited for."""
    (tmp_path / HARTLEPOOL).mkdir()
    with PngRenderer(png_timeout=BOUND, close_timeout=BOUND) as renderer:
        renderer.draw([(figure(), tmp_path / "warm.png")])  # started and well
        pid = renderer.browser_pid
        os.killpg(pid, signal.SIGSTOP)
        started = time.monotonic()
        paths = [tmp_path / HARTLEPOOL / f"chart_{k}.png" for k in range(6)]
        for k, path in enumerate(paths):
            renderer.add(figure(k), path)
        outcome = renderer.collect()
        waited = time.monotonic() - started
        assert waited < BOUND + MARGIN, f"collect took {waited:.1f} s with a {BOUND:g} s bound"
        assert [m.path for m in outcome.missing] == paths and not any(p.exists() for p in paths)
        assert outcome.missing[0].reason == "no answer within 3 s"
        assert outcome.message() == (f"PNG export: Chromium gave no answer within 3 s for {HARTLEPOOL}/chart_0; "
                                     "6 PNGs are missing")
        assert live_group_members(pid) == []  # killed, not just abandoned
    assert renderer_threads() == []


@needs_chromium
def test_a_browser_that_answers_draws_every_png(tmp_path: Path, chromium) -> None:
    paths = [tmp_path / f"{k}.png" for k in range(5)]
    with PngRenderer(png_timeout=30) as renderer:
        for k, path in enumerate(paths):
            renderer.add(figure(k), path)
        renderer.add(figure(), tmp_path / "no such folder" / "x.png")
        outcome = renderer.collect()
        pid = renderer.browser_pid
    assert outcome.drawn == tuple(paths)
    expected = (png_renderer.PNG_WIDTH * png_renderer.PNG_SCALE, png_renderer.PNG_HEIGHT * png_renderer.PNG_SCALE)
    assert all(png_size(path) == expected for path in paths)
    assert len({path.read_bytes() for path in paths}) == len(paths)
    [failed] = outcome.missing
    assert failed.name == "no such folder/x" and failed.reason.startswith("failed (")
    assert outcome.stalled is None and outcome.message().startswith("PNG export: 1 of 6 PNG charts failed")
    assert renderer_threads() == [] and live_group_members(pid) == []


# --- write_charts ------------------------------------------------------------------------------


def png_names(files) -> set[str]:
    return {f"{c.area_code}/{c.indicator_id}" for c in files}


def test_charts_are_published_without_the_pngs_a_silent_browser_did_not_draw(tmp_path: Path, silent_browser) -> None:
    charts_dir = tmp_path / "charts"
    with make_marts(tmp_path / "warehouse.duckdb") as conn:
        for run in (1, 2):  # the second run hands the browser the same PNGs again: none was recorded
            with silent_renderer() as renderer:
                started = time.monotonic()
                files = write_charts(conn, charts_dir, renderer=renderer)
                assert time.monotonic() - started < SILENT_BOUND + MARGIN + 5  # (+ drawing the pages)
            assert {(f.indicator_id, f.area_code) for f in files} == EXPECTED and len(files) == len(EXPECTED)
            assert all(f.html.is_file() and not f.png.exists() for f in files)
            assert (charts_dir / "index.html").is_file()
            assert {m.name for m in files.missing_pngs} == png_names(files), run
            manifest = read_manifest(charts_dir)
            assert (charts_dir / MANIFEST).is_file() and not png_names(files) & set(manifest)
            assert files.png_message.startswith("PNG export: Chromium gave no answer within 1 s for ")
            assert files.png_message.endswith(
                f"; the warehouse and the HTML charts are published; {len(EXPECTED)} PNGs are missing")


@needs_chromium
def test_the_next_build_draws_exactly_the_pngs_that_were_missing(tmp_path: Path, chromium, monkeypatch,
                                                                  answering_renderer) -> None:
    charts_dir = tmp_path / "charts"
    changed = f"{HARTLEPOOL}/rereferral_pct"
    silent = tmp_path / "silent-chromium"
    silent.write_text(SILENT_BROWSER, encoding="utf-8")
    silent.chmod(0o755)
    answering = answering_renderer
    with make_marts(tmp_path / "warehouse.duckdb") as conn:
        first = write_charts(conn, charts_dir, renderer=answering)  # a browser that answers: every PNG
        assert first.png_message is None and len(first.png_outcome.drawn) == len(EXPECTED)
        before = read_manifest(charts_dir)

        # One chart changes, and the browser gives no answer: only that PNG is handed, and missing.
        conn.execute("update marts.indicator_values set value = 27.5 where indicator_id = 'rereferral_pct' "
                     "and area_code = ? and period_label = '2017/18'", [HARTLEPOOL])
        monkeypatch.setenv("BROWSER_PATH", str(silent))
        with silent_renderer() as renderer:
            second = write_charts(conn, charts_dir, renderer=renderer)
        assert [m.name for m in second.missing_pngs] == [changed]
        assert second.png_message == (f"PNG export: Chromium gave no answer within 1 s for {changed} (it was "
                                      "starting); the warehouse and the HTML charts are published; 1 PNG is missing")
        missing_png = charts_dir / HARTLEPOOL / "rereferral_pct.png"
        assert not missing_png.exists()  # not last run's image of other figures
        assert "27.5" in (charts_dir / HARTLEPOOL / "rereferral_pct.html").read_text(encoding="utf-8")
        after = read_manifest(charts_dir)
        assert changed not in after and after == {k: v for k, v in before.items() if k != changed}

        # A browser that answers again: the next build draws exactly the missing PNG.
        monkeypatch.delenv("BROWSER_PATH")
        third = write_charts(conn, charts_dir, renderer=answering)
        assert third.png_outcome.drawn == (missing_png,) and third.png_message is None
        assert png_size(missing_png)[0] == png_renderer.PNG_WIDTH * png_renderer.PNG_SCALE
        assert set(json.loads((charts_dir / MANIFEST).read_text(encoding="utf-8"))) == set(before)


@needs_chromium
def test_pngs_started_before_the_charts_are_written_are_moved_into_place(tmp_path: Path, chromium,
                                                                         answering_renderer) -> None:
    """outputs/chart_images starts the PNGs (start_pngs) while the warehouse is checked; the charts
    step then finds them drawn in the staging folder and moves them into place, drawing none again."""
    charts_dir = tmp_path / "charts"
    staging = png_staging_dir(charts_dir)
    renderer = answering_renderer
    with make_marts(tmp_path / "warehouse.duckdb") as conn:
        started = start_pngs(conn, charts_dir, lambda: renderer)
        assert started == len(EXPECTED) and staging.is_dir() and not charts_dir.exists()
        files = write_charts(conn, charts_dir, renderer=renderer)
    assert files.png_message is None and len(files.png_outcome.drawn) == len(EXPECTED)
    assert all(png_size(f.png)[0] == png_renderer.PNG_WIDTH * png_renderer.PNG_SCALE for f in files)
    assert not staging.exists()  # nothing left half-way between the two steps
    assert set(read_manifest(charts_dir)) == png_names(files)
    # Chromium drew each PNG's small copy for the reports with it (scale 1, over white): the
    # reports shrink none, and each copy is its chart as Pillow would have shrunk it.
    embeddable = EmbeddableCharts(charts_dir)
    kept = {p.read_bytes() for p in embeddable.kept_dir.glob("*.png")}
    smalls = [embeddable.of(f.png) for f in files]
    assert len(kept) == len(files) and set(smalls) == kept
    for chart, small in zip(files, smalls):
        shrunk_by_pillow = embeddable_png(chart.png.read_bytes())
        with Image.open(io.BytesIO(small)) as drawn, Image.open(io.BytesIO(shrunk_by_pillow)) as shrunk:
            assert drawn.size == (png_renderer.PNG_WIDTH, png_renderer.PNG_HEIGHT)
            assert drawn.convert("RGBA").getchannel("A").getextrema() == (255, 255)  # on white paper
            difference = ImageChops.difference(drawn.convert("L"), shrunk.convert("L"))
            assert ImageStat.Stat(difference).mean[0] < 4, chart.png  # (of 255: anti-aliasing apart, the same)


@needs_chromium
def test_a_png_left_in_the_staging_folder_by_another_run_is_not_published(tmp_path: Path, chromium,
                                                                         answering_renderer) -> None:
    charts_dir = tmp_path / "charts"
    renderer = answering_renderer
    with make_marts(tmp_path / "warehouse.duckdb") as conn:
        start_pngs(conn, charts_dir, lambda: renderer)  # a run stopped after starting its PNGs: the files stay
        renderer.collect()
        leftovers = sorted(png_staging_dir(charts_dir).glob("*.png"))
        assert len(leftovers) == len(EXPECTED)
        for leftover in leftovers:
            leftover.write_bytes(b"not this run's drawing")
        files = write_charts(conn, charts_dir, renderer=renderer)  # this run started none early
    assert files.png_message is None and len(files.png_outcome.drawn) == len(EXPECTED)
    assert all(png_size(f.png)[0] == png_renderer.PNG_WIDTH * png_renderer.PNG_SCALE for f in files)
    assert not png_staging_dir(charts_dir).exists()


@needs_chromium
def test_a_tab_draws_figure_after_figure_and_starts_afresh_after_a_figure_plotly_rejects(
        tmp_path: Path, chromium, monkeypatch: pytest.MonkeyPatch) -> None:
    """One tab, reloading our page every 2 figures and after a figure plotly.js cannot draw: the
    bad figure is reported, and every other figure is drawn, before and after it."""
    monkeypatch.setattr(png_renderer, "FIGURES_PER_RELOAD", 2)
    paths = [tmp_path / f"{k}.png" for k in range(6)]
    bad = tmp_path / "bad.png"
    with PngRenderer(tabs=1, png_timeout=30) as renderer:
        for k, path in enumerate(paths[:3]):
            renderer.add(figure(k), path)
        renderer.add({"data": "not a list of traces", "layout": {}}, bad)
        for k, path in enumerate(paths[3:], start=3):
            renderer.add(figure(k), path)
        outcome = renderer.collect()
        pid = renderer.browser_pid
    assert outcome.drawn == tuple(paths) and len({path.read_bytes() for path in paths}) == len(paths)
    [failed] = outcome.missing
    assert failed.path == bad and failed.reason.startswith("failed (") and not bad.exists()
    assert renderer_threads() == [] and live_group_members(pid) == []
