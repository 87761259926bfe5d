"""Real, playable MP4 files, written in pure Python: no encoder, no FFmpeg, no I/O.

The picture is one flat colour, which H.264 can say in a handful of bits: the
first macroblock of the key frame is sent raw (I_PCM), every other one is
predicted from its neighbours (Intra 16x16, DC, no residual), and every later
frame skips all its macroblocks. A 1080p clip of eight seconds is a few
kilobytes, decodes in any player, and has exactly the size, frame rate and
duration that were asked for.

    data = render_mp4(1280, 720, 8.0)
    info = probe_mp4(data)          # Mp4Info(width=1280, height=720, duration_s=8.0, ...)
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from functools import lru_cache

from videogen.errors import VideogenError

__all__ = ["MediaError", "Mp4Info", "probe_mp4", "render_mp4", "render_mp4_b64"]

# A muted blue in BT.601 YCbCr; any colour works.
DEFAULT_COLOR = (90, 160, 110)
MAX_SIDE = 4096
MAX_FRAMES = 24 * 600


class MediaError(VideogenError, ValueError):
    """Bytes that are not an MP4 this module can read, or a size it will not write."""


# ---------------------------------------------------------------- bitstream


class _Bits:
    """An MSB-first bit writer with the Exp-Golomb codes H.264 uses."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[str] = []

    def u(self, bits: int, value: int) -> None:
        self._parts.append(format(value, f"0{bits}b"))

    def ue(self, value: int) -> None:
        code = format(value + 1, "b")
        self._parts.append("0" * (len(code) - 1) + code)

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def raw(self, bits: str) -> None:
        self._parts.append(bits)

    def align_zero(self) -> None:
        self._parts.append("0" * (-self.length % 8))

    @property
    def length(self) -> int:
        return sum(map(len, self._parts))

    def rbsp(self) -> bytes:
        """The payload with its stop bit and alignment (rbsp_trailing_bits)."""
        bits = "".join(self._parts) + "1"
        bits += "0" * (-len(bits) % 8)
        return int(bits, 2).to_bytes(len(bits) // 8, "big")


def _nal(ref_idc: int, kind: int, rbsp: bytes) -> bytes:
    """A NAL unit: header byte, then the payload with emulation prevention bytes."""
    out = bytearray([(ref_idc << 5) | kind])
    zeros = 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


_PROFILE_BASELINE = 66
_CONSTRAINTS = 0xC0  # constrained baseline
_LOG2_MAX_FRAME_NUM = 16


def _level(mbs: int, fps: int) -> int:
    """The smallest H.264 level whose frame size and macroblock rate allow the stream."""
    for level, max_fs, max_mbps in (
        (30, 1620, 40500),
        (31, 3600, 108000),
        (32, 5120, 216000),
        (40, 8192, 245760),
        (50, 22080, 589824),
        (51, 36864, 983040),
    ):
        if mbs <= max_fs and mbs * fps <= max_mbps:
            return level
    return 52


def _sps(mb_w: int, mb_h: int, width: int, height: int, level: int) -> bytes:
    b = _Bits()
    b.u(8, _PROFILE_BASELINE)
    b.u(8, _CONSTRAINTS)
    b.u(8, level)
    b.ue(0)  # seq_parameter_set_id
    b.ue(_LOG2_MAX_FRAME_NUM - 4)
    b.ue(2)  # pic_order_cnt_type: output order is decoding order
    b.ue(1)  # max_num_ref_frames
    b.u(1, 0)  # gaps_in_frame_num_value_allowed_flag
    b.ue(mb_w - 1)
    b.ue(mb_h - 1)
    b.u(1, 1)  # frame_mbs_only_flag
    b.u(1, 1)  # direct_8x8_inference_flag
    crop_right, crop_bottom = (mb_w * 16 - width) // 2, (mb_h * 16 - height) // 2
    if crop_right or crop_bottom:
        b.u(1, 1)
        b.ue(0)
        b.ue(crop_right)
        b.ue(0)
        b.ue(crop_bottom)
    else:
        b.u(1, 0)
    b.u(1, 0)  # vui_parameters_present_flag
    return _nal(3, 7, b.rbsp())


def _pps() -> bytes:
    b = _Bits()
    b.ue(0)  # pic_parameter_set_id
    b.ue(0)  # seq_parameter_set_id
    b.u(1, 0)  # entropy_coding_mode_flag: CAVLC
    b.u(1, 0)  # bottom_field_pic_order_in_frame_present_flag
    b.ue(0)  # num_slice_groups_minus1
    b.ue(0)  # num_ref_idx_l0_default_active_minus1
    b.ue(0)  # num_ref_idx_l1_default_active_minus1
    b.u(1, 0)  # weighted_pred_flag
    b.u(2, 0)  # weighted_bipred_idc
    b.se(0)  # pic_init_qp_minus26
    b.se(0)  # pic_init_qs_minus26
    b.se(0)  # chroma_qp_index_offset
    b.u(1, 1)  # deblocking_filter_control_present_flag
    b.u(1, 0)  # constrained_intra_pred_flag
    b.u(1, 0)  # redundant_pic_cnt_present_flag
    return _nal(3, 8, b.rbsp())


# Intra 16x16, DC prediction, no coded luma or chroma (mb_type 3), chroma DC
# prediction, no QP change, then the luma DC coeff_token for "no coefficients":
# "1" when the neighbours carry few coefficients, the 6-bit "000011" when a
# neighbour is the I_PCM block (which counts as 16).
_MB_FLAT = "00100" + "1" + "1"
_NO_COEFFS = {False: "1", True: "000011"}


def _idr(mb_w: int, mb_h: int, color: tuple[int, int, int]) -> bytes:
    b = _Bits()
    b.ue(0)  # first_mb_in_slice
    b.ue(7)  # slice_type: I, all slices
    b.ue(0)  # pic_parameter_set_id
    b.u(_LOG2_MAX_FRAME_NUM, 0)  # frame_num
    b.ue(0)  # idr_pic_id
    b.u(1, 0)  # no_output_of_prior_pics_flag
    b.u(1, 0)  # long_term_reference_flag
    b.se(0)  # slice_qp_delta
    b.ue(1)  # disable_deblocking_filter_idc
    # Macroblock 0: the raw samples every other block predicts from.
    b.ue(25)  # I_PCM
    b.align_zero()
    y, cb, cr = (min(254, max(1, c)) for c in color)
    b.raw(format(y, "08b") * 256 + format(cb, "08b") * 64 + format(cr, "08b") * 64)
    for address in range(1, mb_w * mb_h):
        next_to_pcm = address in (1, mb_w)
        b.raw(_MB_FLAT + _NO_COEFFS[next_to_pcm])
    return _nal(3, 5, b.rbsp())


def _p_skip(frame_num: int, mbs: int) -> bytes:
    b = _Bits()
    b.ue(0)  # first_mb_in_slice
    b.ue(5)  # slice_type: P, all slices
    b.ue(0)  # pic_parameter_set_id
    b.u(_LOG2_MAX_FRAME_NUM, frame_num % (1 << _LOG2_MAX_FRAME_NUM))
    b.u(1, 0)  # num_ref_idx_active_override_flag
    b.u(1, 0)  # ref_pic_list_modification_flag_l0
    b.u(1, 0)  # adaptive_ref_pic_marking_mode_flag
    b.se(0)  # slice_qp_delta
    b.ue(1)  # disable_deblocking_filter_idc
    b.ue(mbs)  # mb_skip_run: the whole picture repeats the previous one
    return _nal(2, 1, b.rbsp())


# ---------------------------------------------------------------- container


def _box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *payload)


_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def _moov(width: int, height: int, *, fps: int, sizes: list[int], chunk_offset: int, sps: bytes, pps: bytes) -> bytes:
    frames = len(sizes)
    duration_ms = frames * 1000 // fps
    mvhd = _full(
        b"mvhd", 0, 0, struct.pack(">IIIIIH10x", 0, 0, 1000, duration_ms, 0x10000, 0x100), _MATRIX, bytes(24), struct.pack(">I", 2)
    )
    tkhd = _full(
        b"tkhd",
        0,
        3,
        struct.pack(">IIIII8xhhH2x", 0, 0, 1, 0, duration_ms, 0, 0, 0),
        _MATRIX,
        struct.pack(">II", width << 16, height << 16),
    )
    mdhd = _full(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, fps, frames, 0x55C4, 0))
    hdlr = _full(b"hdlr", 0, 0, struct.pack(">I4s12x", 0, b"vide"), b"VideoHandler\x00")
    avcc = _box(
        b"avcC", bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]), struct.pack(">H", len(sps)), sps, b"\x01", struct.pack(">H", len(pps)), pps
    )
    avc1 = _box(
        b"avc1",
        struct.pack(">6xH16xHHIIIH32sHh", 1, width, height, 0x480000, 0x480000, 0, 1, b"", 0x18, -1),
        avcc,
    )
    stbl = _box(
        b"stbl",
        _full(b"stsd", 0, 0, struct.pack(">I", 1), avc1),
        _full(b"stts", 0, 0, struct.pack(">III", 1, frames, 1)),
        _full(b"stss", 0, 0, struct.pack(">II", 1, 1)),
        _full(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, frames, 1)),
        _full(b"stsz", 0, 0, struct.pack(f">II{frames}I", 0, frames, *sizes)),
        _full(b"stco", 0, 0, struct.pack(">II", 1, chunk_offset)),
    )
    dinf = _box(b"dinf", _full(b"dref", 0, 0, struct.pack(">I", 1), _full(b"url ", 0, 1)))
    minf = _box(b"minf", _full(b"vmhd", 0, 1, bytes(8)), dinf, stbl)
    return _box(b"moov", mvhd, _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf)))


@lru_cache(maxsize=64)
def render_mp4(width: int, height: int, duration_s: float, fps: int = 24, color: tuple[int, int, int] = DEFAULT_COLOR) -> bytes:
    """A playable H.264 MP4 of ``width`` x ``height`` (even, at most 4096) lasting ``duration_s``."""
    if not (2 <= width <= MAX_SIDE and 2 <= height <= MAX_SIDE) or width % 2 or height % 2:
        raise MediaError(f"cannot render {width}x{height}: sides must be even and between 2 and {MAX_SIDE}")
    if not 1 <= fps <= 120:
        raise MediaError(f"cannot render at {fps} frames per second")
    frames = max(1, min(MAX_FRAMES, round(duration_s * fps)))
    mb_w, mb_h = (width + 15) // 16, (height + 15) // 16
    sps = _sps(mb_w, mb_h, width, height, _level(mb_w * mb_h, fps))
    pps = _pps()
    samples = [_idr(mb_w, mb_h, color)]
    samples += [_p_skip(n, mb_w * mb_h) for n in range(1, frames)]
    samples = [struct.pack(">I", len(s)) + s for s in samples]
    sizes = [len(s) for s in samples]
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isomiso2avc1mp41")
    head = len(ftyp) + len(_moov(width, height, fps=fps, sizes=sizes, chunk_offset=0, sps=sps, pps=pps)) + 8
    moov = _moov(width, height, fps=fps, sizes=sizes, chunk_offset=head, sps=sps, pps=pps)
    return ftyp + moov + _box(b"mdat", *samples)


@lru_cache(maxsize=64)
def render_mp4_b64(width: int, height: int, duration_s: float, fps: int = 24) -> str:
    """``render_mp4`` as base64 text, for dialects that return the bytes inline."""
    return base64.b64encode(render_mp4(width, height, duration_s, fps)).decode("ascii")


# ---------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class Mp4Info:
    width: int
    height: int
    duration_s: float
    codec: str
    frame_count: int


def _children(data: bytes, start: int, end: int) -> dict[bytes, tuple[int, int]]:
    found: dict[bytes, tuple[int, int]] = {}
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1 and pos + 16 <= end:
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise MediaError(f"box {kind!r} at {pos} overruns its parent")
        found.setdefault(kind, (pos + header, pos + size))
        pos += size
    return found


def _find(data: bytes, path: list[bytes]) -> tuple[int, int]:
    start, end = 0, len(data)
    for kind in path:
        children = _children(data, start, end)
        if kind not in children:
            raise MediaError(f"no {kind.decode()} box under {'/'.join(p.decode() for p in path[: path.index(kind)]) or 'the file'}")
        start, end = children[kind]
    return start, end


def probe_mp4(data: bytes) -> Mp4Info:
    """Size, duration, codec and frame count of the first video track, read from the boxes."""
    try:
        if data[4:8] != b"ftyp":
            raise MediaError("not an MP4: the file does not start with an ftyp box")
        trak = [b"moov", b"trak"]
        tkhd, _ = _find(data, [*trak, b"tkhd"])
        offset = 4 + (32 if data[tkhd] == 1 else 20) + 52
        width, height = (v >> 16 for v in struct.unpack_from(">II", data, tkhd + offset))
        mdhd, _ = _find(data, [*trak, b"mdia", b"mdhd"])
        if data[mdhd] == 1:
            timescale, duration = struct.unpack_from(">IQ", data, mdhd + 20)
        else:
            timescale, duration = struct.unpack_from(">II", data, mdhd + 12)
        stbl = [*trak, b"mdia", b"minf", b"stbl"]
        stsd, _ = _find(data, [*stbl, b"stsd"])
        codec = data[stsd + 12 : stsd + 16].decode("latin-1")
        stsz, _ = _find(data, [*stbl, b"stsz"])
        (frames,) = struct.unpack_from(">I", data, stsz + 8)
    except struct.error as exc:
        raise MediaError(f"truncated MP4: {exc}") from None
    if not timescale:
        raise MediaError("the video track has a zero timescale")
    return Mp4Info(width, height, duration / timescale, codec, frames)
