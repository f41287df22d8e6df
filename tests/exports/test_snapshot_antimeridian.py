"""The map image and the PDF briefing of a scenario across the antimeridian.

A line near Fiji runs 1° of longitude along 17° S, from 179.5° E to 179.5° W, with a
10 km band, stored cut at 180°; incidents lie on both sides of 180°. The image must be
centred on 180° (not on the antipode, the bounding-box middle of the cut pieces), show
the line whole with every incident in the frame, and read its meridians within ±180.
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pandas as pd
import pytest
import shapely
from PIL import Image
from pypdf import PdfReader

from geo.core.filters import Filters
from geo.core.model import Scenario
from geo.render import palette
from geo.render.figure import new_figure
from geo.render.image import MapImage, render_map_image
from geo.render.image.basemap import draw_graticule, setup_map
from geo.render.image.symbols import draw_lines
from geo.render.pdf import render_briefing_pdf
from geo.render.text import lon_deg
from tests.exports.conftest import AS_OF
from tests.maps.helpers import FIJI_INSIDE, FIJI_LAT, FIJI_OUTSIDE, fiji_scenario, fiji_view

FILTERS = Filters()
TOL = 40


def close(pixel: tuple[int, ...] | np.ndarray, colour: str, tol: int = TOL) -> bool:
    return all(abs(int(a) - b) <= tol for a, b in zip(pixel[:3], palette.rgb(colour), strict=True))


def turns_from(lon: float, centre: float) -> float:
    """How far ``lon`` is from ``centre``, the short way round, in degrees."""
    return abs((lon - centre + 180.0) % 360.0 - 180.0)


@pytest.fixture(scope="module")
def fiji(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return fiji_scenario(tmp_path_factory.mktemp("fiji"))


@pytest.fixture(scope="module")
def incidents(fiji: Scenario) -> pd.DataFrame:
    return fiji_view(fiji, AS_OF)


@pytest.fixture(scope="module")
def snap(fiji: Scenario, incidents: pd.DataFrame) -> MapImage:
    return render_map_image(incidents, fiji, filters=FILTERS, as_of=AS_OF, dpi=150)


def rgb_image(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_centred_on_180_not_on_the_antipode(snap: MapImage) -> None:
    assert turns_from(snap.projection.lon0, 180.0) < 1.0
    assert snap.projection.lat0 == pytest.approx(FIJI_LAT, abs=0.2)
    west, south, east, north = snap.bbox
    assert 1.0 < east - west < 2.0  # the band and its margin, not the world
    assert turns_from(west, 179.5) < 0.5
    assert turns_from(east, -179.5) < 0.5
    assert south < FIJI_LAT < north
    width_km = (snap.extent_m[2] - snap.extent_m[0]) / 1000.0
    assert 120.0 < width_km < 250.0  # the line is 106.5 km long


def test_incidents_on_both_sides_of_180_are_in_the_frame(snap: MapImage, incidents: pd.DataFrame) -> None:
    assert snap.outside_extent == 0
    assert sum(snap.counts.values()) == len(incidents)
    assert snap.counts["breach"] == len(FIJI_INSIDE)
    left, top, right, bottom = snap.map_box
    for lon, lat in (*FIJI_INSIDE, *FIJI_OUTSIDE):
        x, y = snap.pixel(lon, lat)
        assert left < x < right and top < y < bottom, (lon, lat)
    # West to east across 180°: left to right on the map, evenly (0.3° = 32 km apart).
    xs = np.array([snap.pixel(lon, FIJI_LAT)[0] for lon in (179.6, 179.9, -179.8, -179.5)])
    assert (np.diff(xs) > 0).all()
    assert np.diff(xs) == pytest.approx(np.full(3, xs[1] - xs[0]), rel=1e-3)
    img = rgb_image(snap.png)
    for lon, lat in ((179.6, -16.96), (-179.99, -17.03)):  # one each side of 180°, clear of labels
        x, y = (int(v) for v in snap.pixel(lon, lat))
        assert close(img[y, x], palette.VERDICT_COLOURS["breach"]), (lon, lat)


def test_the_line_is_drawn_whole_across_180(snap: MapImage) -> None:
    img = rgb_image(snap.png)
    for lon in (179.52, 179.75, 180.0, -179.75, -179.52):
        x, y = (int(v) for v in snap.pixel(lon, FIJI_LAT))
        assert close(img[y, x], palette.LINE_COLOUR), lon
    # 3 km north of the line is the band, not the line.
    x, y = (int(v) for v in snap.pixel(180.0, FIJI_LAT + 0.027))
    assert not close(img[y, x], palette.LINE_COLOUR)


def test_meridians_read_within_180(snap: MapImage) -> None:
    fig = new_figure(8.0, 6.0, 100)
    ax = fig.add_axes([0.0, 0.0, 1.0, 1.0])
    setup_map(ax, snap.extent_m)
    draw_graticule(ax, snap.projection, snap.bbox, snap.extent_m)
    labels = {t.get_text() for t in ax.texts}
    assert {"179.5°E", "180°", "179.5°W"} <= labels
    assert not any(t.endswith("E") and float(t.rstrip("°E")) > 180 for t in labels)
    assert "17°S" in labels


@pytest.mark.parametrize(
    ("lon", "text"),
    [
        (179.0, "179°E"),
        (180.0, "180°"),
        (-180.0, "180°"),
        (181.0, "179°W"),
        (-179.0, "179°W"),
        (-181.0, "179°E"),
        (179.999, "180°"),
        (126.95, "126.95°E"),
        (0.0, "0°"),
        (360.5, "0.5°E"),
    ],
)
def test_longitude_labels(lon: float, text: str) -> None:
    assert lon_deg(lon) == text


def test_line_labels_sit_along_the_whole_line(snap: MapImage, fiji: Scenario) -> None:
    """The name at 25 % and the side labels at 60 % of the line joined again, not of one half."""
    fig = new_figure(8.0, 6.0, 100)
    ax = fig.add_axes([0.0, 0.0, 1.0, 1.0])
    setup_map(ax, snap.extent_m)
    draw_lines(ax, snap.projection, list(fiji.lines), fiji, snap.extent_m)
    where = {t.get_text(): t.get_position() for t in ax.texts}
    x_of = {
        lon: snap.projection.forward(np.array([lon]), np.array([FIJI_LAT]))[0][0] for lon in (179.75, 180.1)
    }
    assert where["Line"][0] == pytest.approx(x_of[179.75], abs=1_000.0)
    for side, above in (("North side", True), ("South side", False)):
        x, y = where[side]
        assert x == pytest.approx(x_of[180.1], abs=1_000.0)
        _, (line_y,) = snap.projection.forward(np.array([180.1]), np.array([FIJI_LAT]))
        assert (y > line_y) == above


def test_the_briefing_map_shows_the_line_across_180(fiji: Scenario, incidents: pd.DataFrame) -> None:
    pdf = PdfReader(io.BytesIO(render_briefing_pdf(incidents, fiji, filters=FILTERS, as_of=AS_OF, dpi=150)))
    first = pdf.pages[0]
    assert "outside the map extent" not in (first.extract_text() or "")
    picture = max(first.images, key=lambda im: im.image.width * im.image.height).image
    img = np.asarray(picture.convert("RGB")).astype(int)
    on_line = (np.abs(img - np.array(palette.rgb(palette.LINE_COLOUR))).max(axis=2) <= TOL).sum(axis=1)
    # The line runs across most of the map (about half the picture, the legend beside it).
    assert on_line.max() > 0.35 * img.shape[1]


def test_the_korean_demo_is_framed_as_before(one_breach: pd.DataFrame, scenario: Scenario) -> None:
    """Away from the antimeridian the extent is the stored geometry's box plus 12 %, centred on it."""
    shown = render_map_image(one_breach, scenario, filters=FILTERS, as_of=AS_OF, dpi=150)
    geoms = np.asarray([g.geometry for g in (*scenario.lines, *scenario.zones)], dtype=object)
    west, south, east, north = shapely.total_bounds(geoms)
    dx, dy = (east - west) * 0.12, (north - south) * 0.12
    assert shown.bbox == (west - dx, south - dy, east + dx, north + dy)
    assert shown.projection.lon0 == pytest.approx((west + east) / 2.0, abs=1e-9)
    assert shown.projection.lat0 == pytest.approx((south + north) / 2.0, abs=1e-9)


def test_incidents_alone_are_framed_across_180(fiji: Scenario, incidents: pd.DataFrame) -> None:
    """With no line or zone, the incidents frame the map: around 180°, not around 0°."""
    bare = dataclasses.replace(fiji, lines=(), zones=(), rules=())
    shown = render_map_image(incidents, bare, filters=FILTERS, as_of=AS_OF, dpi=150)
    assert turns_from(shown.projection.lon0, 180.0) < 0.2
    west, _, east, _ = shown.bbox
    assert 0.7 < east - west < 1.0  # 179.6° E to 179.7° W, and a margin
    assert shown.outside_extent == 0
    assert sum(shown.counts.values()) == len(incidents)
