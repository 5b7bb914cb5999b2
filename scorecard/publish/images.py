"""Chart PNGs made small enough to embed in a report, with Pillow, each once."""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import threading
from pathlib import Path

from PIL import Image

from scorecard.publish.png_renderer import PNG_WIDTH

log = logging.getLogger(__name__)

# write_charts draws at scale 2 (2000 px wide); scale 1 is ~140 dpi across an A4 page and about a
# third of the bytes, so a report of 40 charts stays a few MB. (Chromium draws this copy beside the
# PNG, ``PngRenderer.add``'s ``then``; ``embeddable_png`` makes it from a PNG drawn otherwise.)
EMBED_MAX_WIDTH = PNG_WIDTH
PNG_COMPRESS_LEVEL = 3  # half the time of zlib's default 6, for 3% more bytes


def embeddable_png(data: bytes) -> bytes:
    """The PNG no wider than EMBED_MAX_WIDTH, laid over white paper; a narrower one unchanged.

    Raises ``OSError`` (Pillow's ``UnidentifiedImageError`` among them) or ``SyntaxError`` /
    ``ValueError`` for a file that is not a readable PNG.
    """
    with Image.open(io.BytesIO(data)) as image:
        if image.format != "PNG":
            raise ValueError(f"not a PNG but {image.format}")
        image.load()  # decodes the whole file, so a damaged one fails here
        if image.width <= EMBED_MAX_WIDTH:
            return data
        image = image.convert("RGBA")
        if image.getchannel("A").getextrema()[0] < 255:  # see-through pixels: over white, as printed
            image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image)
        height = max(1, round(image.height * EMBED_MAX_WIDTH / image.width))
        # reducing_gap: whole-number shrinking by averaging blocks first (a third of the time of
        # Lanczos from full size; a 2000 px chart is exactly halved), then Lanczos for the rest.
        small = image.convert("RGB").resize((EMBED_MAX_WIDTH, height), Image.Resampling.LANCZOS,
                                            reducing_gap=1.0)
    out = io.BytesIO()
    small.save(out, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()


class EmbeddableCharts:
    """The chart PNGs of a charts folder made small enough to embed (``embeddable_png``), each
    made once: kept by the digest of the full-size PNG in a folder beside the charts (never
    published), so a chart that did not change since the last reports costs only a file read.
    Safe to use from several threads."""

    def __init__(self, charts_dir: Path) -> None:
        self.charts_dir = charts_dir
        self.kept_dir = charts_dir.with_name(f".{charts_dir.name}_embeddable")
        self._used: set[str] = set()
        self._lock = threading.Lock()

    def _kept(self, data: bytes) -> Path:
        return self.kept_dir / f"{hashlib.sha256(data).hexdigest()[:32]}.png"

    def _keep(self, kept: Path, small: bytes) -> None:
        self.kept_dir.mkdir(parents=True, exist_ok=True)
        temporary = kept.with_name(f".{kept.name}.{threading.get_ident()}.tmp")
        temporary.write_bytes(small)
        os.replace(temporary, kept)

    def keep(self, png: bytes, small: bytes) -> None:
        """Keep ``small``, the copy Chromium drew of the chart ``png`` for the reports
        (``PngRenderer.add``'s ``then``), so the reports find it made. Raises ``OSError``."""
        kept = self._kept(png)
        if not kept.is_file():
            self._keep(kept, small)

    def of(self, path: Path) -> bytes | None:
        """The chart at ``path``, small; None (and a warning) when the file cannot be read or is not
        a readable PNG, so the report says so and the build goes on."""
        try:
            data = path.read_bytes()
            kept = self._kept(data)
            with self._lock:
                self._used.add(kept.name)
            if kept.is_file():
                return kept.read_bytes()
            small = embeddable_png(data)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
            log.warning("Chart image %s could not be read and is left out of the report: %s", path, error)
            return None
        try:  # (keeping it only saves time next run: a folder that cannot be written costs nothing else)
            self._keep(kept, small)
        except OSError as error:
            log.warning("Could not keep the small copy of chart image %s: %s", path, error)
        return small

    def forget_unused(self) -> None:
        """Remove the small copies no chart asked for since this object was made."""
        if not self.kept_dir.is_dir():
            return
        for kept in self.kept_dir.iterdir():
            if kept.name not in self._used:
                kept.unlink(missing_ok=True)


def png_data_uri(data: bytes) -> str:
    """A PNG as a ``data:`` URI, for an HTML page."""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")
