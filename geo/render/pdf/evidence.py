"""The briefing's evidence pages: chosen images, each with its SHA-256 and where it is attached.

The images come already stripped of their EXIF (:func:`geo.services.evidence.briefing_images`);
this module only lays them out. Each image is identified by the SHA-256 of the file as it
was attached, so a reader can check it against the evidence store; the copy printed here
is named by its own SHA-256 too when stripping changed it.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from geo.i18n import _, ngettext
from geo.render.pdf.document import BODY_W, GREY, MARGIN, BriefingDocument

IMAGE_MAX_H = 95.0
"""Height of an image at most (mm): two images with their captions fit on an A4 landscape page."""


@dataclass(frozen=True)
class EvidenceImage:
    """One evidence image chosen for a briefing."""

    sha256: str
    """SHA-256 of the file as attached (the evidence store's key)."""
    media_type: str
    data: bytes
    """The copy to print: the file without its EXIF."""
    file_name: str
    note: str
    incidents: tuple[int, ...]
    """The incidents of the scenario it is attached to."""
    flags: tuple[str, ...] = ()
    """Why its EXIF time or position does not fit an incident (read before stripping)."""

    @property
    def copy_sha256(self) -> str:
        """SHA-256 of the copy printed."""
        return hashlib.sha256(self.data).hexdigest()


def caption_lines(item: EvidenceImage) -> list[str]:
    """The caption under an image: what and where from, its SHA-256, the copy's, and the EXIF checks."""
    ids = ", ".join(str(i) for i in item.incidents)
    head = ngettext("Incident {ids}", "Incidents {ids}", len(item.incidents)).format(ids=ids)
    head += f" · {item.file_name}"
    if item.note:
        head += f" · {item.note}"
    lines = [head, _("SHA-256 (file as attached): {sha}").format(sha=item.sha256)]
    if item.copy_sha256 != item.sha256:
        lines.append(
            _("Printed without its EXIF metadata (location privacy); SHA-256 of this copy: {sha}").format(
                sha=item.copy_sha256
            )
        )
    lines += [_("EXIF check: {flag}").format(flag=f) for f in item.flags]
    return lines


def evidence_pages(doc: BriefingDocument, items: Sequence[EvidenceImage]) -> None:
    """The evidence section: a heading, then each image scaled to the body width with its caption."""
    if not items:
        return
    doc.add_page()
    doc.h1(_("Evidence"))
    doc.para(
        ngettext(
            "{count} evidence image chosen for this briefing.",
            "{count} evidence images chosen for this briefing.",
            len(items),
        ).format(count=len(items))
        + " "
        + _(
            "Each is identified by the SHA-256 of the file as attached: anyone holding the file "
            "can check that it is the one shown. Copies leave the system without EXIF (location privacy)."
        ),
        size=8,
        colour=GREY,
    )
    for item in items:
        width_px, height_px = Image.open(io.BytesIO(item.data)).size
        w = BODY_W
        h = w * height_px / max(width_px, 1)
        if h > IMAGE_MAX_H:
            h = IMAGE_MAX_H
            w = h * width_px / max(height_px, 1)
        lines = caption_lines(item)
        if doc.get_y() + h + 4.5 * len(lines) + 4 > doc.page_break_trigger:
            doc.add_page()
        top = doc.get_y() + 2.0
        doc.image(
            io.BytesIO(item.data),
            x=MARGIN + (BODY_W - w) / 2,
            y=top,
            w=w,
            h=h,
            alt_text=_("Evidence image {name}").format(name=item.file_name),
        )
        doc.set_y(top + h + 1.0)
        doc.para(lines[0], size=8, bold=True)
        for line in lines[1:]:
            doc.para(line, size=7, colour=GREY)
