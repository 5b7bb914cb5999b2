"""The headless browser that draws the chart PNGs: one Chromium, driven through choreographer.

Kept apart from ``scorecard.publish.charts`` (which imports plotly and scipy) so that `scorecard build`
can start the browser before it imports the pipeline: its start-up (~3 s, most of it in
Chromium's own processes) then uses the core the imports leave idle.

Never stuck (issue 14): every wait on the browser is bounded, on the browser's own thread
(start-up, each figure, closing) and again where the caller waits on that thread. When a bound
runs out the renderer stops waiting, kills Chromium's processes and reports which PNGs were not
drawn and why (``PngOutcome``); the caller goes on without them.

Each tab loads a page of ours once (``PAGE``: the installed plotly.js, from
``plotly.offline.get_plotlyjs``, and a render function of ours calling ``Plotly.toImage``) and
then draws figure after figure on it, reloading it only every FIGURES_PER_RELOAD figures or after
an error. (kaleido reloads its tab after every figure, re-parsing plotly.js, and has no public
option not to: that made PNG export ~1.9x slower.) Only public APIs are used: choreographer's
``Browser`` (``path``, ``headless``; ``open``, ``create_tab``, ``subprocess``, ``close``) and
``Tab`` (``send_command`` of the DevTools protocol's ``Page.enable``, ``Page.navigate`` and
``Runtime.evaluate``; ``subscribe_once("Page.loadEventFired")``), and plotly.js's ``Plotly.toImage``.
The page fetches nothing from the network (MathJax is not loaded; these charts use no TeX).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import plotly.graph_objects as go

_log = logging.getLogger(__name__)

# PNG size in layout pixels (scale 2 keeps it sharp in Word at ~16 cm wide).
PNG_WIDTH, PNG_HEIGHT, PNG_SCALE = 1000, 560, 2

# The charts folder's manifest, which ``scorecard.publish.charts.write_charts`` keeps: the figure each
# chart was drawn from. Without one, every chart will be drawn (see ``browser_wanted_at_start``).
MANIFEST = ".manifest.json"

# Figures drawn at once: one browser tab each. Two keep both cores of a small machine busy (a
# third drew no faster, and each tab parses plotly.js as Chromium starts).
PNG_TABS = 2

# Figures a tab draws before it loads our page afresh (which bounds what a tab holds; a reload
# costs ~0.15 s, re-parsing plotly.js). A tab is also reloaded after a figure that failed.
FIGURES_PER_RELOAD = 100

# The page each tab loads: plotly.js (written beside it) and our render function. It lays a figure
# (``{"data": [...], "layout": {...}, "config"?: {...}}``) out once, as SVG, with plotly.js's public
# ``Plotly.toImage``, and rasterises that on a canvas as plotly.js itself does for a PNG: at
# ``scale``, and, when ``small`` is asked for, again at scale 1 over white paper (the copy a report
# embeds; Chromium makes it from the layout it already has, at a fraction of decoding and resizing
# the full PNG in Python). It returns ``{png, small}``, each PNG's base64 (``small`` null when not
# asked for). (``plotGlPixelRatio``: WebGL traces drawn as sharp as the scale, as kaleido does.)
PAGE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Neglect Scorecard PNG export</title>
<script src="plotly.min.js" charset="utf-8"></script>
<script>
function rasterise(image, width, height, paper) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  if (paper) {
    context.fillStyle = paper;
    context.fillRect(0, 0, width, height);
  }
  context.drawImage(image, 0, 0, width, height);
  return canvas.toDataURL("image/png").split(",")[1];
}
async function scorecardPng(figure, width, height, scale, small) {
  const config = Object.assign({plotGlPixelRatio: scale * 2}, figure.config || {});
  const svg = await Plotly.toImage({data: figure.data || [], layout: figure.layout || {}, config: config},
                                   {format: "svg", width: width, height: height});
  const image = new Image();
  image.src = svg;
  await image.decode();
  return {png: rasterise(image, width * scale, height * scale, null),
          small: small ? rasterise(image, width, height, "white") : null};
}
</script>
</head>
<body style="margin: 0; padding: 0"></body>
</html>
"""

# Bounds on every wait, in seconds (each can be set per renderer; tests use small ones).
STARTUP_TIMEOUT = 60.0  # Chromium started and its tabs ready (~3 s when well)
PNG_TIMEOUT = 60.0  # one figure drawn, written and its tab ready again (~0.5 s when well)
PAGE_READY_CHECKS, PAGE_READY_INTERVAL = 100, 0.05  # (up to 5 s, within the start-up bound)
CLOSE_TIMEOUT = 15.0  # choreographer's close (it waits up to ~9 s itself for a browser to exit)
KILL_TIMEOUT = 5.0  # after SIGKILL: for the browser's process to be reaped and choreographer to tidy up
LOOP_GRACE = 10.0  # beyond the bounds above, before the caller stops waiting on the renderer's thread

# Names Chrome and Chromium go by on PATH (Debian's package installs `chromium`).
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def read_manifest(charts_dir: Path) -> dict[str, str]:
    """{"<area>/<indicator>[_spc]": digest of the figure drawn there} from the last run."""
    try:
        return json.loads((charts_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def can_write_charts(charts_dir: Path) -> bool:
    """Whether ``charts_dir`` is a folder this process can write in, or can be made one. When it is
    not, no PNG is drawn: the charts step fails, naming why, and drawing them would be wasted."""
    if charts_dir.exists():
        return charts_dir.is_dir() and os.access(charts_dir, os.W_OK)
    nearest = next(folder for folder in charts_dir.parents if folder.exists())
    return nearest.is_dir() and os.access(nearest, os.W_OK)


def browser_wanted_at_start(charts_dir: Path) -> bool:
    """Whether a build should start the browser as it starts: no chart was drawn before, so
    every one will be (otherwise ``write_charts`` starts one only if a chart changed)."""
    return not read_manifest(charts_dir) and can_write_charts(charts_dir) and find_browser() is not None


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_browser() -> str | None:
    """The Chrome/Chromium to draw with: ``BROWSER_PATH`` when set (choreographer honours it
    too), else the first of BROWSER_NAMES on PATH. The renderer hands this path to choreographer,
    so the browser found is the browser used."""
    configured = os.environ.get("BROWSER_PATH")
    if configured:
        return configured if _executable(configured) else None
    for name in BROWSER_NAMES:
        if (path := shutil.which(name)) is not None:
            return path
    return None


def require_browser() -> None:
    if find_browser() is None:
        configured = os.environ.get("BROWSER_PATH")
        found = f"BROWSER_PATH={configured!r} is not an executable file" if configured else "none was found"
        raise RuntimeError(
            f"PNG export needs Chrome or Chromium and {found}. Install Debian's "
            "`chromium` package (`apt-get install -y chromium`, as the project's Makefile does) "
            "or set BROWSER_PATH to a Chromium binary; or build without chart images "
            "(SCORECARD_CHART_IMAGES=off).")


def _seconds(bound: float) -> str:
    return f"{bound:g} s"


@dataclass(frozen=True)
class MissingPng:
    """A PNG that was not drawn: its chart ("<area>/<chart>"), where it would have gone, and why."""

    name: str
    path: Path
    reason: str


@dataclass(frozen=True)
class PngOutcome:
    """What became of the figures handed to a ``PngRenderer`` since the last ``collect``.

    ``stalled`` says what gave no answer within its bound, when something did (the figure
    drawing then, or Chromium starting); each missing PNG's ``reason`` says why it is missing."""

    added: int
    drawn: tuple[Path, ...]
    missing: tuple[MissingPng, ...]
    stalled: str | None = None

    @property
    def complete(self) -> bool:
        return not self.missing

    def message(self, published: str | None = None) -> str | None:
        """One plain sentence for the build's log, or None when every PNG was drawn, e.g. "PNG
        export: Chromium gave no answer within 60 s for E06000057/cpp_neglect_pct; the warehouse and
        the HTML charts are published; 3 PNGs are missing". ``published``: what the caller did
        publish, to say so in the middle."""
        if not self.missing:
            return None
        first = self.missing[0]
        cause = self.stalled or f"{len(self.missing)} of {self.added} PNG charts failed ({first.name}: {first.reason})"
        count = len(self.missing)
        parts = [f"PNG export: {cause}", *([published] if published else []),
                 f"{count} PNG{'s are' if count != 1 else ' is'} missing"]
        return "; ".join(parts)


class PngExportError(RuntimeError):
    """Some PNGs were not drawn (``PngRenderer.finish``); ``outcome`` says which and why."""

    def __init__(self, outcome: PngOutcome) -> None:
        super().__init__(outcome.message())
        self.outcome = outcome


@dataclass(frozen=True)
class _Figure:
    name: str
    path: Path
    # Resolves to None once the PNG is drawn, or to the reason it was not.
    result: concurrent.futures.Future


@dataclass
class _Tab:
    """A browser tab with our page loaded (``choreographer.Tab``), and how it has drawn since."""

    tab: object
    drawn: int = 0  # figures since the page was loaded
    needs_reload: bool = False  # a figure failed on it: load the page afresh before the next


class PngRenderer:
    """One headless browser (``tabs`` tabs) that draws PNGs and reports those it could not draw
    (which ``plotly.io.write_images`` drops silently); a browser per image would cost ~2.5 s each.

    It starts on a thread of its own, with its own event loop, as soon as it is made, so its
    ~3 s start-up can overlap the caller's work. Figures handed to ``add`` are drawn at once,
    while the caller builds the next ones (Chromium works in processes of its own, so the two
    share the cores); ``collect`` waits for them and says which were drawn (``finish`` raises
    instead if any was not). Use it as a context manager: leaving it closes the browser.

    Every wait is bounded: Chromium has ``startup_timeout`` seconds to start and ``png_timeout``
    for each figure (from when a tab takes it), and ``close_timeout`` to close. When one runs
    out, Chromium's processes are killed, the figures not yet drawn are reported as missing
    (``PngOutcome``), and figures added afterwards are reported at once without a browser.
    """

    def __init__(self, *, tabs: int = PNG_TABS, startup_timeout: float = STARTUP_TIMEOUT,
                 png_timeout: float = PNG_TIMEOUT, close_timeout: float = CLOSE_TIMEOUT,
                 browser_path: str | None = None) -> None:
        self.tabs, self.startup_timeout, self.png_timeout, self.close_timeout = (
            tabs, startup_timeout, png_timeout, close_timeout)
        self._browser_path = browser_path or find_browser()
        self._lock = threading.Lock()
        self._added: list[_Figure] = []  # figures added and not yet collected
        self._failure: str | None = None  # once set: why the browser is gone, and nothing more is drawn
        self._stalled: str | None = None  # what gave no answer within its bound, the first time one did
        self._process: subprocess.Popen | None = None  # the browser's, once started (choreographer's Popen)
        self._browser = None  # choreographer.Browser, on the loop
        self._page_dir: Path | None = None  # our page and plotly.js, removed as the renderer closes
        # Done once the browser is given up: the caller then stops waiting for figures at once.
        self._given_up: concurrent.futures.Future = concurrent.futures.Future()
        self._no_answer: set[Path] = set()  # the PNGs whose figure ran out of time
        self._closed = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="png-renderer", daemon=True)
        self._thread.start()
        self._started = self._run(self._start())

    # --- on the renderer's thread ----------------------------------------------------------

    def _run(self, coroutine) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    async def _start(self) -> None:
        """Open Chromium and its tabs (each with our page loaded), within ``startup_timeout``;
        never raises (a failure is kept in ``_failure`` and every figure reports it)."""
        self._gone = asyncio.get_running_loop().create_future()  # done once the browser is given up
        self._ready: asyncio.Queue[_Tab] = asyncio.Queue()  # tabs with the page loaded, free to draw
        self._waiting_for_start: list[str] = []  # names of the figures added while Chromium starts
        if self._browser_path is None:
            self._give_up("no Chrome or Chromium was found")
            return
        try:
            opening = asyncio.ensure_future(self._open())
            opening.add_done_callback(_retrieve)
            # asyncio.wait, not wait_for: wait_for waits for the cancelled task to finish, which
            # a browser that gives no answer may never let it do.
            done, _ = await asyncio.wait({opening}, timeout=self.startup_timeout)
            if self._browser is not None and self._process is None:
                self._process = getattr(self._browser, "subprocess", None)
            if not done:
                opening.cancel()
                waiting = self._waiting_for_start[0] if self._waiting_for_start else None
                self._give_up(f"Chromium did not start within {_seconds(self.startup_timeout)}",
                              f"Chromium gave no answer within {_seconds(self.startup_timeout)} "
                              + (f"for {waiting} (it was starting)" if waiting else "as it started"))
            elif (error := opening.exception()) is not None:
                self._give_up(f"Chromium could not be started ({type(error).__name__}: {error})")
        except Exception as error:  # noqa: BLE001 (reported as every figure's reason)
            self._give_up(f"Chromium could not be started ({type(error).__name__}: {error})")

    async def _open(self) -> None:
        """Write our page, start Chromium (choreographer) and load the page in ``tabs`` tabs."""
        import choreographer
        import plotly.offline

        self._page_dir = Path(tempfile.mkdtemp(prefix="scorecard-png-"))
        (self._page_dir / "plotly.min.js").write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")
        page = self._page_dir / "index.html"
        page.write_text(PAGE, encoding="utf-8")
        self._page_url = page.as_uri()
        self._browser = choreographer.Browser(path=self._browser_path, headless=True)
        await self._browser.open()
        self._process = self._browser.subprocess
        # The first tab (the one Chromium opened with, if any) gets our page, and drawing can start;
        # the others are opened and loaded one after another, each joining as it is ready, so
        # Chromium's start-up (each tab parses plotly.js, ~0.5 s of a core) leaves a core to the
        # build, which is loading the extracts meanwhile.
        first = self._browser.get_tab() or await self._browser.create_tab("", window=True)
        self._ready.put_nowait(await self._load(_Tab(first)))  # (raises if it failed: Chromium could not start)
        if self.tabs > 1:
            opening = asyncio.ensure_future(self._open_more_tabs(self.tabs - 1))
            opening.add_done_callback(_retrieve)

    async def _open_more_tabs(self, count: int) -> None:
        """Open ``count`` more tabs with our page, one at a time, each within ``startup_timeout``."""
        for _ in range(count):
            loading = asyncio.ensure_future(self._new_tab())
            loading.add_done_callback(_retrieve)
            await self._join(loading)
            if self._gone.done():
                return

    async def _new_tab(self) -> _Tab:
        return await self._load(_Tab(await self._browser.create_tab("", window=True)))

    async def _join(self, load: asyncio.Future) -> None:
        """Free a tab to draw once its page is loaded, within ``startup_timeout``."""
        done, _ = await asyncio.wait({load, self._gone}, timeout=self.startup_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if load in done and load.exception() is None:
            self._ready.put_nowait(await load)  # (done already)
        elif not self._gone.done():
            load.cancel()
            failed = "gave no answer" if load not in done else f"failed ({load.exception()})"
            no_answer = f"Chromium {failed} within {_seconds(self.startup_timeout)} loading a tab"
            self._give_up(f"the browser was stopped: {no_answer}", no_answer)

    async def _load(self, tab: _Tab) -> _Tab:
        """(Re)load our page in ``tab`` and wait until its render function is there."""
        loaded = tab.tab.subscribe_once("Page.loadEventFired")
        try:
            _checked(await tab.tab.send_command("Page.enable"))
            _checked(await tab.tab.send_command("Page.navigate", params={"url": self._page_url}))
            await loaded
        finally:
            if not loaded.done():
                loaded.cancel()
        # The load event heard may be the blank page's a new tab starts with, so the render
        # function is looked for a few times before the page is said not to have loaded.
        for _ in range(PAGE_READY_CHECKS):
            response = await tab.tab.send_command(
                "Runtime.evaluate", params={"expression": "typeof scorecardPng", "returnByValue": True})
            if _value(response) == "function":
                tab.drawn, tab.needs_reload = 0, False
                return tab
            await asyncio.sleep(PAGE_READY_INTERVAL)
        raise RuntimeError(f"the PNG page did not load ({self._page_url})")

    def _give_up(self, failure: str, stalled: str | None = None) -> None:
        """Draw nothing more: kill Chromium's processes, then wake every figure waiting."""
        self._kill_browser()
        self._note_failure(failure, stalled)
        if not self._gone.done():
            self._gone.set_result(None)

    async def _take_tab(self) -> _Tab | None:
        """A tab free to draw (waiting for one, unbounded only while the browser is well), or
        None once the browser is given up."""
        taking = asyncio.ensure_future(self._ready.get())
        done, _ = await asyncio.wait({taking, self._gone}, return_when=asyncio.FIRST_COMPLETED)
        if taking in done:
            return await taking  # (done already)
        taking.cancel()
        return None

    async def _draw(self, figure: go.Figure | dict, path: Path, name: str,
                    then: Callable[[bytes, bytes], None] | None = None) -> str | None:
        """Draw one figure within ``png_timeout`` of a tab taking it; None, or why not."""
        if not self._started.done():
            self._waiting_for_start.append(name)
            try:
                await asyncio.wrap_future(self._started)
            finally:
                self._waiting_for_start.remove(name)
        if self._failure is not None:
            return f"not drawn: {self._failure}"
        try:
            import plotly.io

            spec = plotly.io.to_json(figure, validate=False)
        except Exception as error:  # noqa: BLE001 (reported as the figure's reason)
            return f"failed ({type(error).__name__}: {error})"
        tab = await self._take_tab()  # one figure per tab, so the bound is on drawing, not on queueing
        if tab is None or self._failure is not None:
            return f"not drawn: {self._failure}"
        small = "true" if then is not None else "false"
        expression = f"scorecardPng({spec}, {PNG_WIDTH}, {PNG_HEIGHT}, {PNG_SCALE}, {small})"
        drawing = asyncio.ensure_future(tab.tab.send_command(
            "Runtime.evaluate", params={"expression": expression, "awaitPromise": True, "returnByValue": True}))
        drawing.add_done_callback(_retrieve)
        done, _ = await asyncio.wait({drawing, self._gone}, timeout=self.png_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if drawing not in done:
            drawing.cancel()
            if self._gone.done():
                return f"not drawn: {self._failure}"
            with self._lock:
                self._no_answer.add(path)
            no_answer = f"Chromium gave no answer within {_seconds(self.png_timeout)} for {name}"
            self._give_up(f"the browser was stopped: {no_answer}", no_answer)
            return f"no answer within {_seconds(self.png_timeout)}"
        reason = None
        try:
            drawn = _value(await drawing)  # (done already)
            png = base64.b64decode(drawn["png"], validate=True)
            small_png = base64.b64decode(drawn["small"], validate=True) if then is not None else b""
        except Exception as error:  # noqa: BLE001 (reported as the figure's reason)
            tab.needs_reload = True  # whatever the page was left holding, it starts afresh
            if self._process is not None and self._process.poll() is not None:
                self._give_up(f"Chromium exited (code {self._process.returncode}) while drawing {name}")
            if self._failure is not None:
                return f"not drawn: {self._failure}"
            reason = f"failed ({type(error).__name__}: {error})"
        else:
            try:
                path.write_bytes(png)
            except OSError as error:
                reason = f"failed ({type(error).__name__}: {error})"
            else:
                _after_drawing(then, png, small_png, name)
        tab.drawn += 1
        self._return_tab(tab)
        return reason

    def _return_tab(self, tab: _Tab) -> None:
        """Free ``tab`` for the next figure, reloading our page first every FIGURES_PER_RELOAD
        figures or after an error (bounded like a figure: a reload that does not answer gives
        the browser up)."""
        if not (tab.needs_reload or tab.drawn >= FIGURES_PER_RELOAD):
            self._ready.put_nowait(tab)
            return

        async def reload() -> None:
            loading = asyncio.ensure_future(self._load(tab))
            loading.add_done_callback(_retrieve)
            done, _ = await asyncio.wait({loading, self._gone}, timeout=self.png_timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
            if loading in done and loading.exception() is None:
                self._ready.put_nowait(tab)
            elif not self._gone.done():
                loading.cancel()
                failed = "gave no answer" if loading not in done else f"failed ({loading.exception()})"
                no_answer = f"Chromium {failed} within {_seconds(self.png_timeout)} reloading a tab"
                self._give_up(f"the browser was stopped: {no_answer}", no_answer)

        task = asyncio.ensure_future(reload())
        task.add_done_callback(_retrieve)

    async def _shutdown(self) -> None:
        """Close the browser within ``close_timeout`` (killing Chromium if it does not close),
        then end what is left on the loop."""
        await asyncio.wait({asyncio.wrap_future(self._started)})  # bounded: _start gives up in time
        if self._browser is not None:
            closing = asyncio.ensure_future(self._browser.close())
            closing.add_done_callback(_retrieve)
            done, _ = await asyncio.wait({closing}, timeout=self.close_timeout)
            if not done:
                _log.warning("PNG export: Chromium did not close within %s; killing it",
                             _seconds(self.close_timeout))
                self._kill_browser()
                await asyncio.wait({closing}, timeout=KILL_TIMEOUT)
        self._kill_browser()  # whatever is left of it (nothing, when it closed)
        if self._page_dir is not None:
            shutil.rmtree(self._page_dir, ignore_errors=True)
        others = asyncio.all_tasks() - {asyncio.current_task()}
        for task in others:
            task.cancel()
        if others:
            await asyncio.wait(others, timeout=1)

    # --- on any thread ---------------------------------------------------------------------

    def _note_failure(self, failure: str, stalled: str | None = None) -> None:
        with self._lock:
            self._failure = self._failure or failure
            self._stalled = self._stalled or stalled
            if not self._given_up.done():
                self._given_up.set_result(None)

    def _kill_browser(self) -> None:
        """SIGKILL Chromium's processes: choreographer starts the browser in a session of its own,
        so they share its process group; psutil (if installed) finds any that left the group.
        Nothing is sent once the browser's process is reaped (its pid could be anyone's by then)."""
        process = self._process
        if process is None or process.returncode is not None:
            return
        pid, descendants, psutil = process.pid, [], None
        try:
            import psutil

            descendants = psutil.Process(pid).children(recursive=True)
        except Exception:  # noqa: BLE001 (psutil missing, or the process already gone)
            pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if hasattr(os, "killpg") and os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
            else:
                process.kill()
        for child in descendants:
            with contextlib.suppress(Exception):  # (gone already)
                child.kill()
        try:
            process.wait(timeout=KILL_TIMEOUT)
            if psutil is not None and descendants:  # (gone, not just dying, when this returns)
                psutil.wait_procs(descendants, timeout=KILL_TIMEOUT)
        except subprocess.TimeoutExpired:
            _log.warning("PNG export: Chromium (pid %d) did not exit after SIGKILL", pid)

    # --- the caller's side -----------------------------------------------------------------

    @property
    def browser_pid(self) -> int | None:
        """The browser's process (the leader of Chromium's process group), once started."""
        return self._process.pid if self._process is not None else None

    def add(self, figure: go.Figure | dict, path: Path, name: str | None = None,
            then: Callable[[bytes, bytes], None] | None = None) -> None:
        """Draw ``figure`` (or its dict, ``Figure.to_dict``) to ``path`` (its folder must exist),
        starting now. ``name`` (for reports) defaults to "<folder>/<file stem>". ``then``, when
        given, has Chromium also draw the figure at scale 1 over white (PNG_WIDTH wide: the copy a
        report embeds), and is given the PNG and that copy once the PNG is written, on the
        renderer's thread (e.g. to keep the copy for the reports); an error it raises is logged and
        costs nothing else."""
        if self._closed:
            raise RuntimeError("PngRenderer.add after close")
        name = name or f"{path.parent.name}/{path.stem}"
        if self._failure is not None:  # no browser: say so at once, not through its thread
            result: concurrent.futures.Future = concurrent.futures.Future()
            result.set_result(f"not drawn: {self._failure}")
        else:
            result = self._run(self._draw(figure, path, name, then))
        with self._lock:
            self._added.append(_Figure(name, path, result))

    def collect(self) -> PngOutcome:
        """Wait until every figure added since the last ``collect`` is drawn or given up (the
        bounds above: this never waits for good), and say which were drawn and which were not.
        A PNG not drawn leaves no file at its path (not an empty one, nor last run's)."""
        with self._lock:
            figures, self._added = self._added, []
        waiting = {figure.result for figure in figures}
        while waiting and not self._given_up.done():
            # The renderer's thread resolves a figure at least this often while it is well: this
            # only guards against that thread itself being stuck.
            window = self.png_timeout + LOOP_GRACE + (0 if self._started.done() else self.startup_timeout)
            done, waiting = concurrent.futures.wait(waiting | {self._given_up}, timeout=window,
                                                    return_when=concurrent.futures.FIRST_COMPLETED)
            waiting.discard(self._given_up)
            if not done:
                no_answer = f"the PNG renderer's thread gave no answer within {_seconds(window)}"
                self._note_failure(no_answer, no_answer)
                self._kill_browser()
                self._loop.call_soon_threadsafe(self._wake_all)
                break
        drawn, missing = [], []
        for figure in figures:
            result = figure.result
            if result.done() and not result.cancelled() and result.exception() is None:
                reason = result.result(timeout=0)  # (done already)
            elif result.done() and not result.cancelled():
                reason = f"failed ({type(result.exception()).__name__}: {result.exception()})"
            elif figure.path in self._no_answer:
                reason = f"no answer within {_seconds(self.png_timeout)}"
            else:
                reason = f"not drawn: {self._failure}"
            if reason is None:
                drawn.append(figure.path)
            else:
                missing.append(MissingPng(figure.name, figure.path, reason))
                figure.path.unlink(missing_ok=True)
        return PngOutcome(len(figures), tuple(drawn), tuple(missing), self._stalled if missing else None)

    def _wake_all(self) -> None:
        if hasattr(self, "_gone") and not self._gone.done():
            self._gone.set_result(None)

    def finish(self) -> PngOutcome:
        """``collect``, raising ``PngExportError`` (a RuntimeError) if any PNG was not drawn."""
        outcome = self.collect()
        if outcome.missing:
            raise PngExportError(outcome)
        return outcome

    def draw(self, figures: list[tuple[go.Figure, Path]]) -> PngOutcome:
        for figure, path in figures:
            self.add(figure, path)
        return self.finish()

    def close(self) -> str | None:
        """Close the browser, within bounds: choreographer's close, then a kill, then leaving the
        renderer's thread (a daemon) behind if even that does not answer. Returns what did not
        answer, if anything did (also logged)."""
        if self._closed:
            return None
        self._closed = True
        with self._lock:
            uncollected, self._added = self._added, []
            stopped_part_way = any(not figure.result.done() for figure in uncollected)
        if stopped_part_way:
            self._note_failure("the PNG renderer was closed")
        self._loop.call_soon_threadsafe(self._wake_all)
        problem = None
        shutdown = self._run(self._shutdown())
        bound = ((0 if self._started.done() else self.startup_timeout)
                 + self.close_timeout + 2 * KILL_TIMEOUT + LOOP_GRACE)
        try:
            shutdown.result(timeout=bound)
        except concurrent.futures.TimeoutError:
            problem = f"the PNG renderer's thread gave no answer within {_seconds(bound)} as it closed"
            self._kill_browser()
        except Exception as error:  # noqa: BLE001 (closing goes on)
            problem = f"closing the browser failed ({type(error).__name__}: {error})"
            self._kill_browser()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=LOOP_GRACE)
        if self._thread.is_alive():
            problem = problem or f"the PNG renderer's thread did not stop within {_seconds(LOOP_GRACE)}"
        else:
            self._loop.close()
        if problem:
            _log.warning("PNG export: %s; it was left behind", problem)
        return problem

    def __enter__(self) -> PngRenderer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _after_drawing(then: Callable[[bytes, bytes], None] | None, png: bytes, small: bytes, name: str) -> None:
    if then is None:
        return
    try:
        then(png, small)
    except Exception as error:  # noqa: BLE001 (what ``then`` does is extra: the PNG is drawn)
        _log.warning("After drawing %s: %s: %s", name, type(error).__name__, error)


def _retrieve(task: asyncio.Future) -> None:
    """Mark a task's exception as seen (its figure reports it), so asyncio does not log it."""
    if not task.cancelled():
        task.exception()


def _checked(response: dict) -> dict:
    """A DevTools response, or RuntimeError with the protocol's error."""
    if "error" in response:
        raise RuntimeError(f"DevTools: {response['error'].get('message', response['error'])}")
    return response


def _value(response: dict):
    """What a ``Runtime.evaluate`` (``returnByValue``) gave back; RuntimeError if the page threw."""
    if "error" in response:
        raise RuntimeError(f"DevTools: {response['error'].get('message', response['error'])}")
    result = response.get("result", {})
    if "exceptionDetails" in result:
        details = result["exceptionDetails"]
        thrown = details.get("exception", {})
        raise RuntimeError(f"plotly.js: {thrown.get('description') or thrown.get('value') or details.get('text')}")
    return result.get("result", {}).get("value")


def write_pngs(figures: list[tuple[go.Figure, Path]], **options) -> PngOutcome:
    """Render every PNG with one headless browser (``options``: ``PngRenderer``'s); raises
    ``PngExportError`` if any was not drawn."""
    with PngRenderer(**options) as renderer:
        return renderer.draw(figures)


class ChartsWritten(list):
    """What ``scorecard.publish.charts.write_charts`` returns: its list of ``ChartFile``, with what
    became of the PNGs (``png_outcome``: None when none was drawn this run)."""

    def __init__(self, files=(), png_outcome: PngOutcome | None = None) -> None:
        super().__init__(files)
        self.png_outcome = png_outcome

    @property
    def missing_pngs(self) -> tuple[MissingPng, ...]:
        """The PNGs not drawn this run (not in the manifest, so the next run draws them)."""
        return self.png_outcome.missing if self.png_outcome is not None else ()

    @property
    def png_message(self) -> str | None:
        """The sentence for the build's metadata and final message, or None when nothing is missing."""
        if self.png_outcome is None:
            return None
        return self.png_outcome.message("the warehouse and the HTML charts are published")
