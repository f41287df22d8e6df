"""Which encoding an incident file is in, decided from evidence over the whole file.

UTF-8 (with or without a byte-order mark) and UTF-16 with a byte-order mark are read as
they are. Any other file is matched by charset-normalizer against the legacy code pages
of the regions Truceline serves (:data:`LEGACY`), and against a few others (:data:`OTHERS`)
only when they read it clearly better. What decides is a sample of the lines that hold
non-ASCII bytes, drawn from the whole file (every distinct byte value of the file is in
it); what is accepted must decode the whole file: a single-byte code page must define
every byte the file holds, and a multi-byte one (cp949) or UTF-16 is transcoded to UTF-8
in a stream, so a late undecodable byte is an error naming its line, never garbage.
A text that would only read as mojibake is refused.
"""

from __future__ import annotations

import codecs
import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import charset_normalizer
import numpy as np

from geo.io.readers._input import Input

BLOCK = 16 << 20
"""Bytes scanned at a time."""
LEGACY: tuple[str, ...] = ("cp1252", "cp1250", "cp1251", "cp1256", "cp949")
"""Windows Western, Central European, Cyrillic, Arabic, and Korean (Unified Hangul Code), by preference."""
OTHERS: tuple[str, ...] = ("cp1253", "cp1254", "cp1255", "cp1257", "koi8_r", "koi8_u")
"""Greek, Turkish, Hebrew, Baltic and KOI8 Cyrillic: chosen only when they read the file clearly better."""
ENCODINGS: tuple[str, ...] = (
    "utf-8", "utf-8-sig", "utf-16", "cp1252", "cp1250", "cp1251", "cp1256", "cp949", "cp1253", "cp1254",
    "cp1255", "cp1257", "koi8-r", "koi8-u", "latin-1",
)
"""The encodings offered by name where a list is shown (any encoding Python knows can be given)."""
GARBLED_LINES = 3
"""Lines of UTF-8 decoded once as cp1252 that make a file mojibake, not a file with a few garbled lines."""
CLEARLY = 0.05
"""How much more coherent (charset-normalizer's language coherence, 0 to 1) a reading must be to win."""
SAMPLE_BYTES = 256 << 10
"""About this many bytes of lines holding non-ASCII bytes are sampled, spread over the file."""
NAME_IT = "name the encoding (--encoding)"
_BYTE_SAFE = ("utf-8", "ascii", "iso8859", "latin", "cp125", "cp437", "cp850", "cp866", "koi8", "mac-")
"""Codecs in which every byte below 0x80 is that ASCII character and never part of a longer sequence."""
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx or .ods workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook (.xls)"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
_LATIN_ALPHABETS: tuple[str, ...] = (
    "àâæçéèêëîïôœùûüÿ",  # French
    "áéíñóúü",  # Spanish
    "àáâãçéêíóôõú",  # Portuguese
    "äöüß",  # German
    "àèéìíîòóù",  # Italian
    "àçèéíïòóúü",  # Catalan
    "åäöé",  # Swedish, Finnish
    "æøåé",  # Danish, Norwegian
    "áðéíóúýþæö",  # Icelandic
    "ąćęłńóśźż",  # Polish
    "áčďéěíňóřšťúůýž",  # Czech
    "áäčďéíĺľňóôŕšťúýž",  # Slovak
    "áéíóöőúüű",  # Hungarian
    "čćđšž",  # Croatian, Bosnian, Serbian, Slovene
    "ăâîșțşţ",  # Romanian
    "çë",  # Albanian
    "çğıöşüâî",  # Turkish
    "ąčęėįšųūž",  # Lithuanian
    "āčēģīķļņšūž",  # Latvian
    "äõöüšž",  # Estonian
)
"""The accented letters of the languages written in Latin script with these code pages."""
_HIGH = re.compile(rb"[\x80-\xff]")
_WORD = re.compile(r"\w+")
_IN_WORD = re.compile(r"(?<=[^\W\d_])(?=[^\x00-\x7f])[\W\d_](?=[^\W\d_])")
"""A non-ASCII character that is not a letter, between two letters (``Si³y``, ``pobli¿u``)."""
_SAFE_IN_WORD = frozenset("’'·‐\u200c\u200d״׳")
_ODD_CATEGORIES = frozenset({"So", "Sk", "Sm", "No", "Co", "Cn"})
_COMMON_SYMBOLS = frozenset("°№©®™€£¥×±²³½¼¾µ§¶")
_CP1252_BYTES = {(bytes([b]).decode("cp1252", errors="ignore") or chr(b)): b for b in range(256)}
"""Character -> byte in cp1252; the five bytes cp1252 leaves undefined map to the C1 controls."""


@dataclass
class ByteScan:
    """What one pass over the whole file found."""

    seen: np.ndarray
    """Which non-ASCII byte values occur (256 booleans), when the file is to be read byte by byte."""
    invalid_line: int | None = None
    """The line of the first byte that is not UTF-8; None when the whole file is UTF-8."""
    lines: dict[int, bytes] = field(default_factory=dict)
    """Sampled lines that hold non-ASCII bytes, by line number."""

    @property
    def present(self) -> list[int]:
        """The non-ASCII byte values the file holds."""
        return np.flatnonzero(self.seen).tolist()


def check_binary(inp: Input, head: bytes) -> None:
    """Refuse workbooks, archives, images and other binary files, naming what they look like."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise inp.fail(f"not a CSV text file: it looks like {what}; save or export it as CSV (UTF-8)")
    if b"\x00" in head:
        raise inp.fail("not a CSV text file: it holds binary data (NUL bytes)")


def _size(inp: Input) -> int:
    with inp.open() as handle:
        return handle.seek(0, 2)


def _whole_lines(inp: Input, skip: int) -> Iterator[tuple[int, bytes]]:
    """The file from ``skip`` in blocks of whole lines, each with the number of its first line."""
    line, rest = 1, b""
    with inp.open() as handle:
        handle.seek(skip)
        while True:
            block = handle.read(BLOCK)
            data = rest + block
            cut = data.rfind(b"\n") + 1 if block and len(data) <= 4 * BLOCK else len(data)
            if cut:
                yield line, data[:cut]
                line += data.count(b"\n", 0, cut)
            rest = data[cut:]
            if not block:
                return


def _take_lines(data: bytes, line: int, positions: Iterable[int], out: ByteScan, room: int | None = None,
                ) -> int:
    """
    Keep in the sample the whole lines holding the bytes at ``positions``.

    ``data`` starts at the start of line ``line``; with ``room``, lines are kept until
    about that many bytes are. Returns how many lines ``data`` holds (newlines counted once).
    """
    counted, before, used = 0, 0, 0
    for pos in sorted(set(positions)):
        if room is not None and used >= room:
            break
        start = data.rfind(b"\n", 0, pos) + 1
        before += data.count(b"\n", counted, start)
        counted = start
        if line + before in out.lines:
            continue
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        out.lines[line + before] = data[start:end].removesuffix(b"\r")
        used += end - start
    return before + data.count(b"\n", counted)


def _spread(data: bytes, count: int) -> list[int]:
    """Up to ``count`` non-ASCII bytes spread evenly over ``data``: the first after each of as many marks."""
    found = []
    for mark in np.linspace(0, len(data), count, endpoint=False).astype(np.int64).tolist():
        hit = _HIGH.search(data, mark)
        if hit is not None:
            found.append(hit.start())
    return found


def scan(inp: Input, skip: int) -> ByteScan:
    """
    Read the whole file: is it UTF-8, and a sample of the lines that hold non-ASCII bytes.

    A UTF-8 file is read once, its sample spread over the file (for :func:`double_encoded`).
    A file that is not UTF-8 is read again by :func:`_scan_legacy`.
    """
    budget = SAMPLE_BYTES / max(_size(inp) - skip, 1)
    out = ByteScan(np.zeros(256, dtype=bool))
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with inp.open() as handle:
        handle.seek(skip)
        while True:
            block = handle.read(BLOCK)
            if block.isascii() and not decoder.getstate()[0]:
                if not block:
                    return out
                line += block.count(b"\n")
                continue
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as err:
                return _scan_legacy(inp, skip, line + block.count(b"\n", 0, max(err.start, 0)))
            # Sample whole lines only: not the ones cut by the block's ends.
            first, last = block.find(b"\n") + 1, block.rfind(b"\n")
            room = int(budget * len(block))
            inner = [p for p in _spread(block, max(1, room // 256)) if first <= p < last]
            line += _take_lines(block, line, inner, out, room)


def _scan_legacy(inp: Input, skip: int, invalid_line: int | None) -> ByteScan:
    """
    Which bytes a file holds, and a sample of its non-ASCII lines, for a single-byte code page.

    The sample holds the line of the first invalid UTF-8 byte (if the file is not UTF-8),
    the first line holding each distinct byte value, and lines spread evenly over the
    file, to about :data:`SAMPLE_BYTES`.
    """
    budget = SAMPLE_BYTES / max(_size(inp) - skip, 1)
    out = ByteScan(np.zeros(256, dtype=bool), invalid_line)
    for line, data in _whole_lines(inp, skip):
        if data.isascii():
            continue
        a = np.frombuffer(data, np.uint8)
        seen = np.zeros(256, dtype=bool)
        seen[a[a >= 0x80]] = True
        needed = [data.find(bytes([value])) for value in np.flatnonzero(seen & ~out.seen).tolist()]
        nl = np.flatnonzero(a == 0x0A)
        if invalid_line is not None and line <= invalid_line <= line + len(nl):
            k = invalid_line - line
            needed.append(int(nl[k - 1]) + 1 if k else 0)
        _take_lines(data, line, needed, out)
        out.seen |= seen
        room = int(budget * len(data))
        _take_lines(data, line, _spread(data, max(1, room // 256)), out, room)
    return out


# --------------------------------------------------------------------------- text that reads right


@functools.lru_cache(maxsize=4096)
def _script(ch: str) -> str:
    """The script of a letter (``LATIN``, ``CYRILLIC``, ``HANGUL``, ...), or "" for other characters."""
    if not ch.isalpha():
        return ""
    if ch.isascii():
        return "LATIN"
    name = unicodedata.name(ch, "")
    return "HAN" if name.startswith("CJK") else name.split(" ", 1)[0]


def _main_script(text: str) -> str:
    scripts = [s for s in map(_script, (c for c in text if not c.isascii())) if s]
    return max(set(scripts), key=scripts.count) if scripts else ""


def clean(text: str) -> bool:
    """
    Whether a decoded text reads like text, not like mojibake.

    Refused: control, private-use and unassigned characters and U+FFFD; more than a few
    odd symbols among the non-ASCII characters; a symbol or digit sign inside a word
    (``Si³y``); words mixing scripts (``Ðoc``) or with a capital after a small letter
    (``вНННП``) among more than a tenth of the words with non-ASCII letters; and Latin
    words whose letters are mostly accented (``öáà ääâðä``).
    """
    wide = [c for c in text if not c.isascii()]
    if not wide:
        return True
    if any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") for c in wide) or "\ufffd" in text:
        return False
    odd = sum(unicodedata.category(c) in _ODD_CATEGORIES and c not in _COMMON_SYMBOLS for c in wide)
    if odd > max(1, len(wide) // 50):
        return False
    if any(m.group() not in _SAFE_IN_WORD for m in _IN_WORD.finditer(text)):
        return False
    words = [w for w in _WORD.findall(text) if not w.isascii()]
    bad = accented = latin = 0
    for word in words:
        scripts = {s for s in map(_script, word) if s}
        camel = any(a.islower() and b.isupper() for a, b in itertools.pairwise(word))
        bad += len(scripts) > 1 or camel
        if scripts == {"LATIN"}:
            letters = [c for c in word if c.isalpha()]
            latin += len(letters)
            accented += sum(not c.isascii() for c in letters)
    return bad <= len(words) // 10 and accented * 2 <= latin


def _latin_fit(text: str) -> float:
    """The largest share of the text's accented Latin letters that one language's alphabet holds."""
    letters = [c.lower() for c in text if not c.isascii() and _script(c) == "LATIN"]
    if not letters:
        return 1.0
    return max(sum(c in alphabet for c in letters) for alphabet in _LATIN_ALPHABETS) / len(letters)


# --------------------------------------------------------------------------- choosing


@functools.cache
def _undefined(codec: str) -> frozenset[int]:
    """The bytes a single-byte codec does not define."""
    out = set()
    for value in range(0x80, 0x100):
        try:
            bytes([value]).decode(codec)
        except UnicodeDecodeError:
            out.add(value)
    return frozenset(out)


def _single_byte(codec: str) -> bool:
    name = codecs.lookup(codec).name
    return name.startswith(_BYTE_SAFE) and not name.startswith("utf")


def _fits(codec: str, found: ByteScan) -> bool:
    """Whether a codec decodes every byte of the file (the sample, for a multi-byte one)."""
    if _single_byte(codec):
        return not _undefined(codec) & set(found.present)
    try:
        for line in found.lines.values():
            line.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True)
class _Reading:
    codec: str
    text: str
    coherence: float

    @functools.cached_property
    def fit(self) -> float:
        return _latin_fit(self.text)

    def key(self) -> tuple[float, float, int]:
        order = (*LEGACY, *OTHERS)
        return (-self.fit, -self.coherence, order.index(self.codec))

    def beats(self, other: _Reading) -> bool:
        """Whether this reading clearly wins: its letters fit a language better, or it is more coherent."""
        return self.fit > other.fit + 1e-9 or self.coherence >= other.coherence + CLEARLY


def _quote(text: str) -> str:
    """A short stretch of the text from its first non-ASCII character, quoted."""
    start = next((i for i, c in enumerate(text) if not c.isascii()), 0)
    return "'" + " ".join(text[start:start + 60].split())[:30] + "'"


def legacy(inp: Input, found: ByteScan) -> str:
    """
    The legacy code page of a file that is not UTF-8.

    Raises
    ------
    ReaderError
        When no candidate reads the sample as clean text, or two read it equally well
        in different scripts.
    """
    order = (*LEGACY, *OTHERS)
    candidates = [c for c in order if _fits(c, found)]
    sample = b"\n".join(found.lines[k] for k in sorted(found.lines))
    readings = []
    if candidates:
        for match in charset_normalizer.from_bytes(sample, cp_isolation=candidates):
            codecs_ = [c for c in candidates if c in {match.encoding, *match.could_be_from_charset}]
            text = str(match)
            if codecs_ and clean(text):
                readings.append(_Reading(codecs_[0], text, match.coherence))
    if not readings:
        tried = ", ".join(codecs.lookup(c).name for c in order)
        msg = (f"cannot tell the encoding: the file is not UTF-8 (line {found.invalid_line}), and none of "
               f"{tried} reads it as clean text; {NAME_IT}")
        raise inp.fail(msg)
    readings.sort(key=_Reading.key)
    best = readings[0]
    rivals = [r for r in readings[1:] if not best.beats(r)]
    other = next((r for r in rivals if _main_script(r.text) != _main_script(best.text)), None)
    if other is not None:
        msg = (f"cannot tell the encoding: the file is not UTF-8, and it reads equally well as "
               f"{codecs.lookup(best.codec).name} ({_quote(best.text)}) and as "
               f"{codecs.lookup(other.codec).name} ({_quote(other.text)}); {NAME_IT}")
        raise inp.fail(msg)
    if best.codec in OTHERS:
        # Another code page only where its text is clearly better than one of the regions' own.
        best = next((r for r in rivals if r.codec in LEGACY), best)
    return codecs.lookup(best.codec).name


def _utf8_lines(found: ByteScan) -> Iterable[tuple[int, str]]:
    for number in sorted(found.lines):
        try:
            yield number, found.lines[number].decode("utf-8")
        except UnicodeDecodeError:
            continue


def refuse_mixed(inp: Input, found: ByteScan) -> None:
    """Refuse a file with some lines in UTF-8 and others not: one of them would be mojibake."""
    for number, text in _utf8_lines(found):
        if not text.isascii() and clean(text):
            msg = (f"mixed encodings: line {number} is UTF-8 ({_quote(text)}), but line {found.invalid_line} "
                   f"is not; save the whole file in one encoding, or {NAME_IT}")
            raise inp.fail(msg)


def _undo_cp1252(text: str) -> str | None:
    """The text re-read as UTF-8, if it is UTF-8 that was once decoded as cp1252 (and holds letters)."""
    try:
        fixed = bytes(_CP1252_BYTES[c] for c in text).decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return None
    return fixed if fixed != text and any(c.isalpha() and not c.isascii() for c in fixed) else None


def double_encoded(inp: Input, found: ByteScan) -> list[str]:
    """
    Refuse UTF-8 whose text was decoded as cp1252 and saved again (``Ð’Ð¾Ð¾Ñ€``).

    A file where that is most of the sampled non-ASCII lines, and at least
    :data:`GARBLED_LINES` of them, is refused; fewer such lines are warnings.
    """
    wide = [(n, t) for n, t in _utf8_lines(found) if not t.isascii()]
    garbled = [(n, t, fixed) for n, t in wide if (fixed := _undo_cp1252(t)) is not None]
    if len(garbled) >= GARBLED_LINES and len(garbled) * 2 >= len(wide):
        number, text, fixed = garbled[0]
        msg = (f"the text is mojibake: line {number} reads {_quote(text)}, UTF-8 that was once decoded as "
               f"cp1252 (it should read {_quote(fixed)}); export the file again from its source")
        raise inp.fail(msg)
    return [f"line {n}: text looks garbled: {_quote(t)} may be {_quote(f)} (UTF-8 once decoded as cp1252)"
            for n, t, f in garbled[:5]]


# --------------------------------------------------------------------------- transcoding


def transcode(inp: Input, codec: str, skip: int, label: str) -> None:
    """
    Rewrite the file as UTF-8, a block at a time.

    Raises
    ------
    ReaderError
        Naming the line of the first byte sequence the codec cannot decode.
    """
    decoder = codecs.getincrementaldecoder(codec)()
    line, first = 1, True
    with inp.open() as source, inp.rewrite() as out:
        source.seek(skip)
        while True:
            block = source.read(BLOCK)
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as err:
                before = block[: max(err.start, 0)].decode(codec, errors="replace").count("\n")
                msg = (f"cannot decode the file as {label}: line {line + before}: {err.reason}; "
                       f"the file is not {label} throughout: {NAME_IT}")
                raise inp.fail(msg) from err
            if first:
                text, first = text.removeprefix("\ufeff"), False
            out.write(text.encode("utf-8"))
            line += text.count("\n")
            if not block:
                return


def first_line_with(inp: Input, skip: int, values: Iterable[int]) -> int:
    """The line of the first occurrence of any of these byte values."""
    wanted = np.zeros(256, dtype=bool)
    wanted[list(values)] = True
    line = 1
    with inp.open() as handle:
        handle.seek(skip)
        while block := handle.read(BLOCK):
            a = np.frombuffer(block, np.uint8)
            hit = np.flatnonzero(wanted[a])
            if len(hit):
                return line + block.count(b"\n", 0, int(hit[0]))
            line += block.count(b"\n")
    return line


# --------------------------------------------------------------------------- the decision


def _forced(inp: Input, head: bytes, forced: str) -> tuple[str, str, int, list[str]]:
    try:
        name = codecs.lookup(forced).name
    except LookupError as err:
        raise inp.fail(f"unknown encoding {forced!r}") from err
    if not name.startswith(_BYTE_SAFE):
        transcode(inp, name, 0, forced)
        return forced, "utf-8", 0, []
    check_binary(inp, head)
    skip = len(codecs.BOM_UTF8) if name.startswith("utf-8") and head.startswith(codecs.BOM_UTF8) else 0
    found = scan(inp, skip)
    if name.startswith("utf-8"):
        if found.invalid_line is not None:
            msg = (f"cannot decode the file as {forced}: line {found.invalid_line} is not UTF-8; "
                   "give the right encoding")
            raise inp.fail(msg)
        return forced, "utf-8", skip, []
    if found.invalid_line is None:
        found = _scan_legacy(inp, skip, None)  # UTF-8 bytes read as single bytes: are they all defined?
    undefined = _undefined(name) & set(found.present)
    if undefined:
        shown = ", ".join(f"0x{b:02X}" for b in sorted(undefined)[:3])
        where = first_line_with(inp, skip, undefined)
        msg = (f"cannot decode the file as {forced}: line {where} holds byte(s) {shown}, which {forced} "
               "does not define; give the right encoding")
        raise inp.fail(msg)
    notes = []
    if found.invalid_line is None and found.present:
        notes.append(f"encoding: read as {forced} as asked, but the file is valid UTF-8: check that its text "
                     "reads right")
    return forced, name, 0, notes


def detect_encoding(inp: Input, forced: str | None = None, head: bytes = b"",
                    ) -> tuple[str, str, int, list[str]]:
    """
    Find the encoding of the whole file, or check the one given.

    Parameters
    ----------
    inp
        The file; a file read through a multi-byte codec is rewritten as UTF-8.
    forced
        An encoding the caller knows; skips the guess, but the file must decode with it.
    head
        The file's first bytes.

    Returns
    -------
    tuple
        The encoding to report, the codec to decode the bytes now behind ``inp`` with,
        how many leading bytes to skip (a byte-order mark), and file-level warnings.
    """
    if forced is not None:
        return _forced(inp, head, forced)
    for mark, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(mark):
            transcode(inp, codec, len(mark), "utf-16")
            return "utf-16", "utf-8", 0, []
    check_binary(inp, head)
    bom = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
    found = scan(inp, bom)
    if found.invalid_line is None:
        return ("utf-8-sig" if bom else "utf-8"), "utf-8", bom, double_encoded(inp, found)
    if bom:
        msg = (f"cannot decode the file as utf-8-sig: it starts with a UTF-8 byte-order mark, but line "
               f"{found.invalid_line} is not UTF-8; save the whole file in one encoding, or {NAME_IT}")
        raise inp.fail(msg)
    refuse_mixed(inp, found)
    name = legacy(inp, found)
    note = (f"encoding: the file is not UTF-8 (line {found.invalid_line}); read as {name}, detected from its "
            f"text; {NAME_IT} if that is wrong")
    if _single_byte(name):
        return name, name, 0, [note]
    transcode(inp, name, 0, name)
    return name, "utf-8", 0, [note]
