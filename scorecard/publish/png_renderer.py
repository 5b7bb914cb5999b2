"""The headless browser that draws the chart PNGs: one Chromium, driven through kaleido.

Kept apart from ``scorecard.publish.charts`` (which imports plotly and scipy) so that `scorecard build`
can start the browser before it imports the pipeline: its start-up (~3 s, most of it in
Chromium's own processes) then uses the core the imports leave idle.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import plotly.graph_objects as go

# PNG size in layout pixels (scale 2 keeps it sharp in Word at ~16 cm wide).
PNG_WIDTH, PNG_HEIGHT, PNG_SCALE = 1000, 560, 2

# The charts folder's manifest, which ``scorecard.publish.charts.write_charts`` keeps: the figure each
# chart was drawn from. Without one, every chart will be drawn (see ``browser_wanted_at_start``).
MANIFEST = ".manifest.json"


def read_manifest(charts_dir: Path) -> dict[str, str]:
    """{"<area>/<indicator>[_spc]": digest of the figure drawn there} from the last run."""
    try:
        return json.loads((charts_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def browser_wanted_at_start(charts_dir: Path) -> bool:
    """Whether a build should start the browser as it starts: no chart was drawn before, so
    every one will be (otherwise ``write_charts`` starts one only if a chart changed)."""
    return not read_manifest(charts_dir) and find_browser() is not None


def find_browser() -> str | None:
    """The Chrome/Chromium kaleido will use (BROWSER_PATH, PATH, or kaleido's own copy)."""
    from choreographer.browsers.chromium import Chromium

    return Chromium.find_browser(skip_local=False)


def require_browser() -> None:
    if find_browser() is None:
        raise RuntimeError(
            "PNG export needs Chrome or Chromium and none was found. Install Debian's "
            "`chromium` package (`apt-get install -y chromium`, as the project's Makefile does) "
            "or set BROWSER_PATH to a Chromium binary; or write the charts with png=False.")


# Figures drawn in one tab before it is reloaded (see ``_png_renderer``).
FIGURES_PER_TAB_RELOAD = 50
PNG_TABS = 2  # figures drawn at once: one browser tab each


def _png_renderer():
    """kaleido's ``Kaleido``, reloading each tab only every FIGURES_PER_TAB_RELOAD figures.

    Kaleido reloads a tab after every figure, and the reload (parsing plotly.js again) is half
    the time of a PNG. Each figure is drawn afresh on the page either way, and the PNGs are byte
    for byte the same (tests/test_charts.py); the occasional reload bounds what a tab holds.
    Falls back to the stock class if a kaleido release changes what this relies on.
    """
    import kaleido

    if not hasattr(kaleido.Kaleido, "_return_kaleido_tab"):
        return kaleido.Kaleido

    class TabReusingKaleido(kaleido.Kaleido):
        async def _return_kaleido_tab(self, tab) -> None:
            drawn = getattr(tab, "_figures_since_reload", 0) + 1
            if drawn >= FIGURES_PER_TAB_RELOAD:
                await super()._return_kaleido_tab(tab)  # reloads, then returns it
                drawn = 0
            else:
                await self.tabs_ready.put(tab)
            tab._figures_since_reload = drawn

    return TabReusingKaleido


class PngRenderer:
    """One headless browser (PNG_TABS tabs) that draws PNGs, reporting failures (which
    ``plotly.io.write_images`` drops silently); a browser per image would cost ~2.5 s each.

    It starts on a thread of its own, with its own event loop, as soon as it is made, so its
    ~3 s start-up can overlap the caller's work. Figures handed to ``add`` are drawn at once,
    while the caller builds the next ones (Chromium works in processes of its own, so the two
    share the cores); ``finish`` waits for the last and reports failures. Use it as a context
    manager: leaving it closes the browser.
    """

    def __init__(self, reuse_tabs: bool = True) -> None:
        import kaleido

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="png-renderer", daemon=True)
        self._thread.start()
        # mathjax=False: kaleido would otherwise fetch MathJax from a CDN; these charts use no TeX.
        self._browser = (_png_renderer() if reuse_tabs else kaleido.Kaleido)(mathjax=False, n=PNG_TABS)
        self._started = self._run(self._browser.__aenter__())
        self._queue: asyncio.Queue | None = None  # figures added and not yet taken, while drawing
        self._drawing: concurrent.futures.Future | None = None
        self._added = 0

    def _run(self, coroutine) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    async def _draw_queued(self, queue: asyncio.Queue) -> tuple[Exception, ...]:
        async def specs():
            while (spec := await queue.get()) is not None:
                yield spec

        await asyncio.wrap_future(self._started)
        return await self._browser.write_fig_from_object(specs(), cancel_on_error=False)

    def add(self, figure: go.Figure | dict, path: Path) -> None:
        """Draw ``figure`` (or its dict, ``Figure.to_dict``) to ``path`` (its folder must exist),
        starting now."""
        if self._queue is None:
            async def new_queue() -> asyncio.Queue:
                return asyncio.Queue()

            self._queue = self._run(new_queue()).result()
            self._drawing = self._run(self._draw_queued(self._queue))
        spec = {"fig": figure, "path": path,
                "opts": {"format": "png", "width": PNG_WIDTH, "height": PNG_HEIGHT, "scale": PNG_SCALE}}
        self._loop.call_soon_threadsafe(self._queue.put_nowait, spec)
        self._added += 1

    def finish(self) -> None:
        """Wait until every figure added is drawn; raise if any failed."""
        if self._queue is None:
            return
        self._loop.call_soon_threadsafe(self._queue.put_nowait, None)
        errors, added = self._drawing.result(), self._added
        self._queue, self._drawing, self._added = None, None, 0
        if errors:
            raise RuntimeError(f"{len(errors)} of {added} PNG charts failed: {errors[0]!r}")

    def draw(self, figures: list[tuple[go.Figure, Path]]) -> None:
        for figure, path in figures:
            self.add(figure, path)
        self.finish()

    def close(self) -> None:
        try:
            if self._queue is not None:  # (a caller's error part way: stop drawing)
                self._loop.call_soon_threadsafe(self._queue.put_nowait, None)
                concurrent.futures.wait([self._drawing])
            if self._started.exception() is None:  # (waits for the start-up to finish either way)
                self._run(self._browser.__aexit__(None, None, None)).result()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def __enter__(self) -> PngRenderer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def write_pngs(figures: list[tuple[go.Figure, Path]], reuse_tabs: bool = True) -> None:
    """Render every PNG with one headless browser."""
    with PngRenderer(reuse_tabs) as renderer:
        renderer.draw(figures)
