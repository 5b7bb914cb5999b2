"""Chart PNGs made small enough to embed in a report, with Pillow."""

from __future__ import annotations

import base64
import io
import logging
from pathlib import Path

from PIL import Image

log = logging.getLogger(__name__)

# write_charts draws at scale 2 (2000 px wide); half that is ~140 dpi across an A4 page and
# about a third of the bytes, so a report of 40 charts stays a few MB.
EMBED_MAX_WIDTH = 1000
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


def embeddable_png_of(path: Path) -> bytes | None:
    """The chart at ``path`` made small enough to embed (``embeddable_png``); None (and a warning)
    when the file cannot be read or is not a readable PNG, so the report says so and the build goes on."""
    try:
        return embeddable_png(path.read_bytes())
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        log.warning("Chart image %s could not be read and is left out of the report: %s", path, error)
        return None


def png_data_uri(data: bytes) -> str:
    """A PNG as a ``data:`` URI, for an HTML page."""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")
