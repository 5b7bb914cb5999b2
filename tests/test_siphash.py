"""The vectorised SipHash-2-4 that child keys are made with, held to the algorithm's own test vectors."""

import random

import numpy as np
import pyarrow as pa
import pytest

from scorecard.ingest import siphash
from scorecard.ingest.siphash import siphash24, siphash24_scalar

KEY = bytes(range(16))
# From the SipHash paper (Aumasson and Bernstein, 2012) and its reference implementation's
# vectors.h: key 00 01 .. 0f, message 00 01 .. (n-1), the hash as a little-endian integer.
PAPER_VECTORS = {0: 0x726FDB47DD0E0E31, 1: 0x74F839C593DC67FD, 2: 0x0D6C8009D9A94F5A, 3: 0x85676696D7FB7E2D,
                 15: 0xA129CA6149BE45E5, 63: 0x958A324CEB064572}


@pytest.mark.parametrize(("length", "expected"), PAPER_VECTORS.items())
def test_the_papers_test_vectors(length, expected):
    message = bytes(range(length))
    assert siphash24_scalar(KEY, message) == expected
    assert siphash24(KEY, pa.array([message.decode("ascii")])).tolist() == [expected]


def test_whole_arrays_hash_as_each_string_alone(monkeypatch):
    monkeypatch.setattr(siphash, "CHUNK", 7)  # so chunks end mid-group too
    rng = random.Random(5)
    alphabet = "abcXYZ019 -_éü日\u00a0"
    strings = [bytes(range(n)).decode("ascii") for n in range(40)]
    strings += ["".join(rng.choices(alphabet, k=rng.randint(0, 40))) for _ in range(300)]
    expected = [siphash24_scalar(KEY, s.encode("utf-8")) for s in strings]
    assert siphash24(KEY, pa.array(strings)).tolist() == expected
    assert siphash24(KEY, pa.chunked_array([strings[:100], strings[100:]])).tolist() == expected
    assert siphash24(KEY, pa.array(strings).slice(50, 60)).tolist() == expected[50:110]  # an offset into buffers
    assert siphash24(KEY, pa.array(strings, pa.string_view())).tolist() == expected


def test_nulls_empty_arrays_and_bad_keys():
    hashed = siphash24(KEY, pa.array(["a", None, ""]))
    assert hashed[1] == hashed[2] == siphash24_scalar(KEY, b"")  # callers mask nulls themselves
    assert siphash24(KEY, pa.array([], pa.string())).dtype == np.uint64
    assert siphash24(KEY, pa.chunked_array([], pa.string())).size == 0
    with pytest.raises(ValueError, match="16 bytes"):
        siphash24(b"short", pa.array(["a"]))
