"""The PNG map snapshot: image, pixel colours at known places, legend, scale bar, banner."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pyproj import Geod

from geo.core.filters import Filters
from geo.render import palette
from geo.render.image import SIZES, render_map_image, render_map_png
from tests.exports.conftest import AS_OF, mdl_point

FILTERS = Filters(since=AS_OF - pd.Timedelta(days=30))


def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return tuple(int(h[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def close(pixel: tuple[int, ...], colour: str, tol: int = 10) -> bool:
    return all(abs(int(a) - b) <= tol for a, b in zip(pixel[:3], rgb(colour), strict=True))


def image(png: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(png))
    img.load()
    return img.convert("RGB")


@pytest.fixture(scope="module")
def breach_snap(one_breach, scenario):
    return render_map_image(one_breach, scenario, filters=FILTERS, as_of=AS_OF, dpi=150)


def test_png_opens_with_the_asked_size(one_breach, scenario):
    for size, dpi in (("a4", 150), ("16:9", 200), ("a4", 300)):
        png = render_map_png(one_breach, scenario, filters=FILTERS, as_of=AS_OF, size=size, dpi=dpi)
        img = Image.open(io.BytesIO(png))
        assert img.format == "PNG"
        width, height = SIZES[size]
        assert abs(img.size[0] - width * dpi) <= 1
        assert abs(img.size[1] - height * dpi) <= 1
        assert img.info["Software"] == "Truceline"
        assert "SYNTHETIC" in img.info["Disclaimer"]


def test_breach_pixel_has_the_breach_colour(breach_snap, breach_point):
    img = image(breach_snap.png)
    x, y = breach_snap.pixel(*breach_point)
    left, top, right, bottom = breach_snap.map_box
    assert left < x < right
    assert top < y < bottom
    assert close(img.getpixel((int(x), int(y))), palette.VERDICT_COLOURS["breach"])
    assert breach_snap.counts["breach"] == 1


def test_same_place_without_the_breach_is_not_red(breach_snap, one_breach, scenario, breach_point):
    empty = render_map_image(one_breach.iloc[:0], scenario, filters=FILTERS, as_of=AS_OF, dpi=150)
    assert empty.extent_m == breach_snap.extent_m
    x, y = empty.pixel(*breach_point)
    assert not close(
        image(empty.png).getpixel((int(x), int(y))), palette.VERDICT_COLOURS["breach"], tol=40
    )


def test_no_breach_verdict_draws_another_colour(one_breach, scenario, breach_point):
    view = one_breach.copy()
    view["verdict"] = pd.Categorical(["no_breach"], categories=["breach", "no_breach"])
    snap = render_map_image(view, scenario, filters=FILTERS, as_of=AS_OF, dpi=150)
    x, y = snap.pixel(*breach_point)
    assert not close(
        image(snap.png).getpixel((int(x), int(y))), palette.VERDICT_COLOURS["breach"], tol=40
    )
    assert snap.counts == {"breach": 0, "possible_breach": 0, "no_breach": 1, "outside_monitored_area": 0}


def test_line_pixel_has_the_line_colour(breach_snap, scenario):
    img = image(breach_snap.png)
    for share in (0.15, 0.5, 0.75):
        x, y = breach_snap.pixel(*mdl_point(scenario, share))
        assert close(img.getpixel((int(x), int(y))), palette.LINE_COLOUR), share
        # 3 km north of the line is zone or land, not line.
        x2, y2 = breach_snap.pixel(*mdl_point(scenario, share, north_m=3000.0))
        assert not close(img.getpixel((int(x2), int(y2))), palette.LINE_COLOUR, tol=40), share


def test_legend_is_drawn_beside_the_map(breach_snap):
    img = image(breach_snap.png)
    _, _, map_right, _ = breach_snap.map_box
    legend_left, legend_top, legend_right, legend_bottom = breach_snap.legend_box
    assert legend_left > map_right
    expected = {
        "verdict:breach": palette.VERDICT_COLOURS["breach"],
        "verdict:possible_breach": palette.VERDICT_COLOURS["possible_breach"],
        "verdict:no_breach": palette.VERDICT_COLOURS["no_breach"],
        "line:mdl": palette.LINE_COLOUR,
    }
    for key, colour in expected.items():
        x, y = breach_snap.legend_swatches[key]
        assert legend_left <= x <= legend_right and legend_top <= y <= legend_bottom, key
        assert close(img.getpixel((int(x), int(y))), colour), key
    assert {"zone:dmz", "zone:jsa", "party:north", "party:south"} <= set(breach_snap.legend_swatches)


def test_scale_bar_is_true_to_the_ground(breach_snap):
    img = image(breach_snap.png)
    left, top, right, bottom = breach_snap.scale_bar_box
    km = breach_snap.scale_bar_km
    assert km in (1, 2, 5, 10, 20, 25, 50, 100, 200)
    # Two points km apart on the ground, measured on the ellipsoid, around the map centre.
    proj = breach_snap.projection
    lon0, lat0 = proj.lon0, proj.lat0
    lon1, lat1, _ = Geod(ellps="WGS84").fwd(lon0, lat0, 90.0, km * 1000.0)
    (x0, y0), (x1, y1) = breach_snap.pixel(lon0, lat0), breach_snap.pixel(lon1, lat1)
    ground_px = float(np.hypot(x1 - x0, y1 - y0))
    assert abs((right - left) - ground_px) / ground_px < 0.01
    # Alternating black and white segments.
    mid = int((top + bottom) / 2)
    quarter = (right - left) / 4
    assert close(img.getpixel((int(left + quarter * 0.5), mid)), "#111111")
    assert close(img.getpixel((int(left + quarter * 1.5), mid)), "#ffffff")


def test_north_arrow_points_up_inside_the_map(breach_snap):
    left, top, right, bottom = breach_snap.north_arrow_box
    m_left, m_top, m_right, m_bottom = breach_snap.map_box
    assert m_left < left < right < m_right
    assert m_top < top < bottom < m_bottom
    assert right > (m_left + m_right) / 2  # top-right quarter
    assert bottom < (m_top + m_bottom) / 2


def test_synthetic_banner_only_for_synthetic_scenarios(one_breach, scenario):
    real = dataclasses.replace(scenario, synthetic=False)
    banner = image(render_map_png(one_breach, scenario, filters=FILTERS, as_of=AS_OF, dpi=150))
    plain = image(render_map_png(one_breach, real, filters=FILTERS, as_of=AS_OF, dpi=150))
    assert close(banner.getpixel((5, 5)), palette.SYNTHETIC_COLOUR)
    assert close(plain.getpixel((5, 5)), "#ffffff")
    assert (
        "Disclaimer"
        not in Image.open(
            io.BytesIO(render_map_png(one_breach, real, filters=FILTERS, as_of=AS_OF, dpi=150))
        ).info
    )


def test_extent_follows_the_bbox(one_breach, scenario, breach_point):
    lon, lat = breach_point
    bbox = (lon - 0.15, lat - 0.1, lon + 0.15, lat + 0.1)
    snap = render_map_image(one_breach, scenario, filters=FILTERS, as_of=AS_OF, bbox=bbox, dpi=150)
    wide = render_map_image(one_breach, scenario, filters=FILTERS, as_of=AS_OF, dpi=150)
    assert snap.scale_bar_km < wide.scale_bar_km
    x, y = snap.pixel(lon, lat)
    assert close(image(snap.png).getpixel((int(x), int(y))), palette.VERDICT_COLOURS["breach"])
    # The filters' bbox is the default extent; an incident outside it is counted, not drawn.
    far = render_map_image(
        one_breach,
        scenario,
        filters=FILTERS.with_(bbox=(lon + 0.5, lat, lon + 0.8, lat + 0.2)),
        as_of=AS_OF,
        dpi=150,
    )
    assert far.outside_extent == 1
    assert far.counts["breach"] == 0


def test_zones_not_in_force_are_not_drawn(one_breach, scenario, breach_point):
    # The 2018 zones start on 2018-11-01: a window in 2017 shows the DMZ and the line only.
    old = Filters(since=pd.Timestamp("2017-01-01T00:00Z"), until=pd.Timestamp("2017-12-31T00:00Z"))
    snap = render_map_image(one_breach.iloc[:0], scenario, filters=old, as_of=AS_OF, dpi=150)
    assert "zone:dmz" in snap.legend_swatches
    assert "zone:nofly-uav" not in snap.legend_swatches
    assert "zone:jsa" not in snap.legend_swatches


def test_large_view_is_drawn(demo_full, scenario):
    snap = render_map_image(demo_full, scenario, filters=Filters(), as_of=AS_OF, size="16:9", dpi=150)
    inside = snap.counts
    assert sum(inside.values()) + snap.outside_extent == len(demo_full)
    expected = demo_full["verdict"].astype(str).value_counts()
    assert inside["breach"] <= expected["breach"]
    assert inside["breach"] > 0.9 * expected["breach"]


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"dpi": 100}, "dpi"),
        ({"size": "a3"}, "size"),
        ({"bbox": (128.0, 37.0, 127.0, 38.0)}, "bbox"),
    ],
)
def test_bad_options_raise(one_breach, scenario, kw, match):
    with pytest.raises(ValueError, match=match):
        render_map_png(one_breach, scenario, filters=FILTERS, as_of=AS_OF, **kw)
