"""Frames into a file: GIF through Pillow, MP4 (H.264) through PyAV, with the frame dates inside.

Each file carries a JSON description of its frames, so that a reader (or a test) can
tell what each frame shows without looking at the pixels: the GIF in its comment
extension, the MP4 in its ``comment`` metadata tag. PyAV's wheels bundle FFmpeg: nothing
is installed on the system or downloaded at run time.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from PIL import Image

FORMATS: dict[str, str] = {"gif": "image/gif", "mp4": "video/mp4"}
"""The animation formats and their media types."""
_GIF_MAGIC = (b"GIF87a", b"GIF89a")


@dataclass(frozen=True)
class AnimationInfo:
    """What a written animation says about itself, and how many frames it holds."""

    frames: int
    description: dict[str, Any]
    """The JSON written into the file: ``frames`` (each frame's day), ``spans``, ``step``, …"""

    @property
    def dates(self) -> list[str]:
        """Each frame's day, ``YYYY-MM-DD``, in order."""
        return [str(d) for d in self.description.get("frames", [])]


def _check(fmt: str, seconds: float) -> None:
    if fmt not in FORMATS:
        msg = f"playback: format: must be one of {', '.join(FORMATS)}, got {fmt!r}"
        raise ValueError(msg)
    if not 0.1 <= seconds <= 60.0:
        msg = f"playback: frame seconds: must be between 0.1 and 60, got {seconds}"
        raise ValueError(msg)


def encode(fmt: str, frames: Iterable[np.ndarray], description: dict[str, Any], *, seconds: float) -> bytes:
    """
    Write frames (height x width x 3, uint8) as a GIF or an MP4.

    Parameters
    ----------
    fmt
        ``gif`` or ``mp4``.
    frames
        The frames, in order (consumed one at a time: an MP4 holds only one in memory).
    description
        What the file says about itself (JSON-ready).
    seconds
        How long each frame shows.

    Returns
    -------
    bytes
    """
    _check(fmt, seconds)
    text = json.dumps(description, ensure_ascii=False, separators=(",", ":"))
    return _gif(frames, text, seconds) if fmt == "gif" else _mp4(frames, text, seconds)


def _gif(frames: Iterable[np.ndarray], text: str, seconds: float) -> bytes:
    images = [
        Image.fromarray(f, "RGB").quantize(
            colors=255, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
        for f in frames
    ]
    if not images:
        msg = "playback: no frame to write"
        raise ValueError(msg)
    buf = io.BytesIO()
    images[0].save(
        buf,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=round(seconds * 1000),
        loop=0,
        optimize=False,
        disposal=1,
        comment=text.encode("utf-8"),
    )
    return buf.getvalue()


def _mp4(frames: Iterable[np.ndarray], text: str, seconds: float) -> bytes:
    import av

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as container:
        container.metadata["comment"] = text
        container.metadata["encoder"] = "Truceline"
        stream = None
        for frame in frames:
            if stream is None:
                stream = container.add_stream("libx264", rate=Fraction(1 / seconds).limit_denominator(1000))
                stream.height, stream.width = _even(frame).shape[:2]
                stream.pix_fmt = "yuv420p"
                stream.options = {"crf": "20", "preset": "veryfast", "tune": "stillimage"}
            for packet in stream.encode(av.VideoFrame.from_ndarray(_even(frame), format="rgb24")):
                container.mux(packet)
        if stream is None:
            msg = "playback: no frame to write"
            raise ValueError(msg)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


def _even(frame: np.ndarray) -> np.ndarray:
    """The frame with an odd last row or column repeated: H.264 in 4:2:0 needs even sizes."""
    height, width = frame.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return frame
    return np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")


def read_info(data: bytes) -> AnimationInfo:
    """
    Read back what an animation says about itself, and count its frames.

    Parameters
    ----------
    data
        A GIF or MP4 this module wrote.

    Returns
    -------
    AnimationInfo
    """
    if data[:6] in _GIF_MAGIC:
        with Image.open(io.BytesIO(data)) as image:
            comment = image.info.get("comment", b"")
            count = getattr(image, "n_frames", 1)
        text = comment.decode("utf-8") if isinstance(comment, bytes) else str(comment)
        return AnimationInfo(int(count), json.loads(text) if text else {})
    import av

    with av.open(io.BytesIO(data), mode="r") as container:
        text = str(container.metadata.get("comment", ""))
        count = sum(1 for _ in container.decode(video=0))
    return AnimationInfo(count, json.loads(text) if text else {})


def frames_of(data: bytes) -> Iterator[np.ndarray]:
    """Decode an animation's frames back to RGB arrays (for checks and previews)."""
    if data[:6] in _GIF_MAGIC:
        with Image.open(io.BytesIO(data)) as image:
            for k in range(getattr(image, "n_frames", 1)):
                image.seek(k)
                yield np.asarray(image.convert("RGB"))
        return
    import av

    with av.open(io.BytesIO(data), mode="r") as container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="rgb24")
