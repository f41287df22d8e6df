"""A file path or bytes, opened as many times as reading needs, and rewritten when transcoded."""

from __future__ import annotations

import io
import os
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from geo._errors import ReaderError


def _unlink(path: str) -> None:
    Path(path).unlink(missing_ok=True)


class Input:
    """A file path or bytes, opened as many times as reading needs."""

    def __init__(self, source: str | Path | bytes | bytearray | memoryview, name: str | None = None) -> None:
        self._cleanup: weakref.finalize[[str], Input] | None = None
        if isinstance(source, bytes | bytearray | memoryview):
            self._data: bytes | None = bytes(source)
            self._path: Path | None = None
            self.name = name or "<bytes>"
        elif isinstance(source, str | Path):
            self._data = None
            self._path = Path(source)
            self.name = name or self._path.name
        else:
            msg = f"source: expected a path or bytes, got {type(source).__name__}"
            raise ReaderError(msg)

    def open(self) -> BinaryIO:
        """Open the bytes for reading from the start."""
        if self._data is not None:
            return io.BytesIO(self._data)
        assert self._path is not None  # noqa: S101 - one of the two is always set
        try:
            return self._path.open("rb")
        except OSError as err:
            msg = f"{self.name}: cannot open the file: {err.strerror or err}"
            raise ReaderError(msg) from err

    @contextmanager
    def rewrite(self) -> Iterator[BinaryIO]:
        """
        Write the file anew (transcoded to UTF-8); it is read from there from then on.

        Bytes are rewritten in memory; a file goes to a temporary file, removed when this
        input is no longer used. Nothing changes if writing fails.
        """
        if self._data is not None:
            buffer = io.BytesIO()
            yield buffer
            self._data = buffer.getvalue()
            return
        fd, temp = tempfile.mkstemp(prefix="truceline-", suffix=".csv")
        try:
            with os.fdopen(fd, "wb") as out:
                yield out
        except BaseException:
            _unlink(temp)
            raise
        if self._cleanup is not None:
            self._cleanup()
        self._path = Path(temp)
        self._cleanup = weakref.finalize(self, _unlink, temp)

    def fail(self, problem: str) -> ReaderError:
        """A :class:`ReaderError` naming this input."""
        return ReaderError(f"{self.name}: {problem}")
