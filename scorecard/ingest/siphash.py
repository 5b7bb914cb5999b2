"""SipHash-2-4 (Aumasson and Bernstein, 2012) over whole arrays of strings at once, in numpy.

SipHash is a keyed pseudorandom function made for short inputs: a 128-bit key, a 64-bit
output, and no way to compute or invert a hash without the key. It is what child identifiers
are pseudonymised with (``scorecard.ingest.record_level.keyed_hashes``). Python's hashlib has no
SipHash, and a hash per identifier through hashlib costs about 0.5 µs and holds the GIL; here
each step of the algorithm is one numpy operation over thousands of identifiers, about a
tenth of that, and numpy lets go of the GIL while it computes, so two reading threads hash at once.

``siphash24_scalar`` is the algorithm written out for one message, as the paper gives it: the
tests hold both to the paper's test vectors and to each other.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

MASK64 = (1 << 64) - 1
_INIT = (0x736F6D6570736575, 0x646F72616E646F6D, 0x6C7967656E657261, 0x7465646279746573)
CHUNK = 16_384  # identifiers hashed together: small enough for the state to stay in cache


def _split_key(key: bytes) -> tuple[int, int]:
    if len(key) != 16:
        raise ValueError(f"a SipHash key is 16 bytes, not {len(key)}")
    return int.from_bytes(key[:8], "little"), int.from_bytes(key[8:], "little")


def siphash24_scalar(key: bytes, message: bytes) -> int:
    """SipHash-2-4 of one message, as an unsigned 64-bit integer (the reference, not fast)."""
    k0, k1 = _split_key(key)
    v0, v1, v2, v3 = _INIT[0] ^ k0, _INIT[1] ^ k1, _INIT[2] ^ k0, _INIT[3] ^ k1

    def rotl(x: int, b: int) -> int:
        return ((x << b) | (x >> (64 - b))) & MASK64

    def sipround() -> None:
        nonlocal v0, v1, v2, v3
        v0 = (v0 + v1) & MASK64; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)  # noqa: E702
        v2 = (v2 + v3) & MASK64; v3 = rotl(v3, 16); v3 ^= v2  # noqa: E702
        v0 = (v0 + v3) & MASK64; v3 = rotl(v3, 21); v3 ^= v0  # noqa: E702
        v2 = (v2 + v1) & MASK64; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)  # noqa: E702

    whole = len(message) - len(message) % 8
    words = [int.from_bytes(message[i:i + 8], "little") for i in range(0, whole, 8)]
    words.append(((len(message) & 0xFF) << 56) | int.from_bytes(message[whole:], "little"))
    for word in words:
        v3 ^= word
        sipround(); sipround()  # noqa: E702
        v0 ^= word
    v2 ^= 0xFF
    for _ in range(4):
        sipround()
    return v0 ^ v1 ^ v2 ^ v3


_SHIFTS = {b: (np.uint64(b), np.uint64(64 - b)) for b in (13, 16, 17, 21, 32)}


def _rotl(x: np.ndarray, b: int, scratch: np.ndarray) -> None:
    """x = x rotated left by b bits, in place."""
    left, right = _SHIFTS[b]
    np.right_shift(x, right, out=scratch)
    np.left_shift(x, left, out=x)
    np.bitwise_or(x, scratch, out=x)


def _sipround(v0: np.ndarray, v1: np.ndarray, v2: np.ndarray, v3: np.ndarray, scratch: np.ndarray) -> None:
    np.add(v0, v1, out=v0); _rotl(v1, 13, scratch); np.bitwise_xor(v1, v0, out=v1); _rotl(v0, 32, scratch)  # noqa: E702
    np.add(v2, v3, out=v2); _rotl(v3, 16, scratch); np.bitwise_xor(v3, v2, out=v3)  # noqa: E702
    np.add(v0, v3, out=v0); _rotl(v3, 21, scratch); np.bitwise_xor(v3, v0, out=v3)  # noqa: E702
    np.add(v2, v1, out=v2); _rotl(v1, 17, scratch); np.bitwise_xor(v1, v2, out=v1); _rotl(v2, 32, scratch)  # noqa: E702


def _hash_words(k0: int, k1: int, words: np.ndarray) -> np.ndarray:
    """SipHash-2-4 of messages already cut into little-endian words: ``words`` is (n, w) uint64,
    the last word of each message holding its length in its top byte."""
    n = words.shape[0]
    v0 = np.full(n, _INIT[0] ^ k0, dtype=np.uint64)
    v1 = np.full(n, _INIT[1] ^ k1, dtype=np.uint64)
    v2 = np.full(n, _INIT[2] ^ k0, dtype=np.uint64)
    v3 = np.full(n, _INIT[3] ^ k1, dtype=np.uint64)
    scratch = np.empty(n, dtype=np.uint64)
    for j in range(words.shape[1]):
        word = np.ascontiguousarray(words[:, j])
        np.bitwise_xor(v3, word, out=v3)
        _sipround(v0, v1, v2, v3, scratch)
        _sipround(v0, v1, v2, v3, scratch)
        np.bitwise_xor(v0, word, out=v0)
    np.bitwise_xor(v2, np.uint64(0xFF), out=v2)
    for _ in range(4):
        _sipround(v0, v1, v2, v3, scratch)
    np.bitwise_xor(v0, v1, out=v0)
    np.bitwise_xor(v2, v3, out=v2)
    np.bitwise_xor(v0, v2, out=v0)
    return v0


def siphash24(key: bytes, strings: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """SipHash-2-4 of each string's UTF-8 bytes, as uint64; a null hashes as the empty string
    (callers mask nulls themselves)."""
    k0, k1 = _split_key(key)
    if isinstance(strings, pa.ChunkedArray):
        strings = strings.combine_chunks() if strings.num_chunks else pa.array([], pa.large_string())
    strings = strings.cast(pa.large_string())
    n = len(strings)
    out = np.empty(n, dtype=np.uint64)
    if n == 0:
        return out
    _, offsets_buffer, data_buffer = strings.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[strings.offset:strings.offset + n + 1]
    starts, lengths = offsets[:-1], np.diff(offsets)
    longest = int(lengths.max())
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    data = np.concatenate([data, np.zeros(longest + 1, np.uint8)])  # every window below stays inside
    # Every window of the data as a row (no copy): a string's bytes are then one row taken,
    # a copy of its bytes, where indexing byte by byte costs several times more.
    windows = np.lib.stride_tricks.as_strided(data, shape=(max(data.size - longest, 1), longest),
                                              strides=(1, 1), writeable=False)
    # Messages are hashed in groups of one length (identifiers are mostly one or two lengths).
    for length in np.unique(lengths).tolist():
        rows = np.flatnonzero(lengths == length)
        width = (length // 8 + 1) * 8
        message_bytes = np.zeros((rows.size, width), dtype=np.uint8)
        message_bytes[:, :length] = windows[starts[rows], :length]
        message_bytes[:, width - 1] = length & 0xFF  # the last word's top byte: the length (mod 256)
        words = message_bytes.view("<u8").astype(np.uint64, copy=False)
        for first in range(0, rows.size, CHUNK):
            out[rows[first:first + CHUNK]] = _hash_words(k0, k1, words[first:first + CHUNK])
    return out
