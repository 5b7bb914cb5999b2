"""Nothing waits without a bound: a file reader that never answers ends the load with a sentence
naming the files, instead of holding the build for ever. (The browser's bounds are tested in
tests/test_png_export.py.)"""

from __future__ import annotations

import threading
import time

import pytest

from scorecard.load.file_refs import FileRef
from scorecard.load.ledger import ReadTimeout, read_ahead


def refs(count: int) -> list[FileRef]:
    return [FileRef(f"E06000057/annex_a_{i}.csv", None, f"{i:064d}", 1_000) for i in range(count)]


def test_a_reader_that_never_answers_is_named_once_the_bound_runs_out():
    released = threading.Event()

    def read(batch):
        if batch[0].path.endswith("_1.csv"):
            released.wait(timeout=30)  # (ends once the test is over, so no thread outlives it for long)
        return [ref.path for ref in batch]

    started = time.monotonic()
    results = []
    try:
        with pytest.raises(ReadTimeout, match=r"Reading E06000057/annex_a_1\.csv gave no answer within 0\.5 s"):
            for _ref, result in read_ahead(read, refs(4), batch_bytes=1_000, timeout=0.5):
                results.append(result)
    finally:
        released.set()
    assert time.monotonic() - started < 10
    assert results == ["E06000057/annex_a_0.csv"]  # what came before the stuck file was handed on


def test_readers_that_answer_are_read_ahead_in_order():
    got = [result for _, result in read_ahead(lambda batch: [ref.path for ref in batch], refs(7), batch_bytes=1_000)]
    assert got == [ref.path for ref in refs(7)]
