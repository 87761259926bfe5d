"""Still images of a result, written in pure Python: a WebP (lossless) and a baseline JPEG.

A video's thumbnail and spritesheet are flat images in its colour, of sizes a
client can check. Both writers use the smallest valid form of their format for a
flat image: in WebP lossless every prefix code has one symbol, so a pixel costs
zero bits; in JPEG every 8x8 block repeats the first one's DC value (difference
0) and ends at once (EOB). FFmpeg decodes both (``tests/mockserver/test_media.py``).
"""

from __future__ import annotations

import struct
from functools import lru_cache

from mockserver.media import DEFAULT_COLOR, MediaError

__all__ = ["SPRITE_GRID", "jpeg", "spritesheet", "spritesheet_size", "webp"]

SPRITE_GRID = (3, 3)  # columns x rows of frames in a spritesheet
MAX_SIDE = 16383  # WebP's limit (14 bits); JPEG's is 65535


class _BitsLSB:
    """Bits written least significant first (WebP)."""

    def __init__(self) -> None:
        self.value = 0
        self.count = 0

    def put(self, value: int, bits: int) -> None:
        self.value |= (value & ((1 << bits) - 1)) << self.count
        self.count += bits

    def bytes(self) -> bytes:
        return self.value.to_bytes((self.count + 7) // 8, "little")


@lru_cache(maxsize=64)
def webp(width: int, height: int, color: tuple[int, int, int] = DEFAULT_COLOR) -> bytes:
    """A lossless WebP of ``width`` x ``height`` in one colour."""
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise MediaError(f"cannot write a {width}x{height} WebP: sides must be between 1 and {MAX_SIDE}")
    bits = _BitsLSB()
    bits.put(width - 1, 14)
    bits.put(height - 1, 14)
    bits.put(0, 1)  # no alpha
    bits.put(0, 3)  # version 0
    bits.put(0, 1)  # no transform
    bits.put(0, 1)  # no colour cache
    bits.put(0, 1)  # no meta prefix codes
    red, green, blue = color
    for symbol in (green, red, blue, 255):  # green, red, blue, alpha: one 8-bit symbol each
        bits.put(1, 1)  # a simple code
        bits.put(0, 1)  # with one symbol
        bits.put(1, 1)  # of 8 bits
        bits.put(symbol, 8)
    bits.put(1, 1)  # the distance code: simple, one 1-bit symbol, 0
    bits.put(0, 1)
    bits.put(0, 1)
    bits.put(0, 1)
    data = b"\x2f" + bits.bytes()
    chunk = b"VP8L" + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


class _BitsMSB:
    """Bits written most significant first, with JPEG's byte stuffing (0xFF -> 0xFF 0x00)."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.count = 0

    def put(self, value: int, bits: int) -> None:
        self.acc = (self.acc << bits) | (value & ((1 << bits) - 1))
        self.count += bits
        while self.count >= 8:
            self.count -= 8
            byte = (self.acc >> self.count) & 0xFF
            self.out.append(byte)
            if byte == 0xFF:
                self.out.append(0)
        self.acc &= (1 << self.count) - 1

    def flush(self) -> bytes:
        if self.count:
            self.put((1 << (8 - self.count)) - 1, 8 - self.count)  # pad with ones
        return bytes(self.out)


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", marker, len(payload) + 2) + payload


def _category(value: int) -> int:
    return abs(value).bit_length()


@lru_cache(maxsize=64)
def jpeg(width: int, height: int, color: tuple[int, int, int] = DEFAULT_COLOR) -> bytes:
    """A baseline JPEG of ``width`` x ``height`` in one colour (YCbCr 4:4:4, quantisation 1)."""
    if not (1 <= width <= 65535 and 1 <= height <= 65535):
        raise MediaError(f"cannot write a {width}x{height} JPEG: sides must be between 1 and 65535")
    r, g, b = color
    samples = (
        0.299 * r + 0.587 * g + 0.114 * b,
        128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
        128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
    )
    dcs = [max(-1023, min(1023, round(8 * (s - 128)))) for s in samples]  # the DC of a flat block, quantised by 1
    # One DC table for all components: the categories used, each a 3-bit canonical code (none all ones).
    categories = sorted({0, *(_category(dc) for dc in dcs)})
    dc_codes = {cat: i for i, cat in enumerate(categories)}
    dht_dc = bytes([0x00]) + bytes([0, 0, len(categories)] + [0] * 13) + bytes(categories)
    dht_ac = bytes([0x10]) + bytes([0, 1] + [0] * 14) + bytes([0x00])  # one symbol, EOB, code "00"
    header = b"\xff\xd8" + _segment(0xFFE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    header += _segment(0xFFDB, b"\x00" + b"\x01" * 64)
    header += _segment(0xFFC0, struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00")
    header += _segment(0xFFC4, dht_dc + dht_ac)
    header += _segment(0xFFDA, b"\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00")
    bits = _BitsMSB()
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    first = True
    for _ in range(blocks):
        for dc in dcs:
            diff = dc if first else 0
            cat = _category(diff)
            bits.put(dc_codes[cat], 3)
            if cat:
                bits.put(diff if diff > 0 else diff + (1 << cat) - 1, cat)
            bits.put(0b00, 2)  # EOB
        first = False
    return header + bits.flush() + b"\xff\xd9"


def spritesheet_size(width: int, height: int) -> tuple[int, int]:
    """A grid of frames, each a quarter of the video's sides (at least 16 pixels)."""
    columns, rows = SPRITE_GRID
    return columns * max(16, width // 4), rows * max(16, height // 4)


def spritesheet(width: int, height: int) -> bytes:
    """The spritesheet of a ``width`` x ``height`` video, as a JPEG."""
    return jpeg(*spritesheet_size(width, height))
