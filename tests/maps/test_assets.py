"""The vendored assets, their documentation and Streamlit's static serving."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path

from geo.render.webmap.assets import MAP_CSS, MAP_JS, VENDOR_DIR, inline_css, inline_js

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "offline-assets.md"


def packages() -> list[Path]:
    return sorted(p.parent for p in VENDOR_DIR.glob("*/package.json"))


def test_every_vendored_package_has_its_licence_and_is_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert packages()
    for folder in packages():
        meta = json.loads((folder / "package.json").read_text(encoding="utf-8"))
        assert (folder / "LICENSE").is_file(), folder
        row = re.search(rf"^\| {re.escape(meta['name'])} \| ([^|]+) \| ([^|]+) \|", doc, flags=re.MULTILINE)
        assert row, f"{meta['name']} is not in {DOC.name}"
        assert row.group(1).strip() == meta["version"]
        assert row.group(2).strip().startswith(meta["license"])


def test_documented_checksums_match_the_files() -> None:
    doc = DOC.read_text(encoding="utf-8")
    listed = dict(re.findall(r"^\| `([^`]+)` \| `([0-9a-f]{64})` \|", doc, flags=re.MULTILINE))
    files = {p.relative_to(VENDOR_DIR).as_posix(): p for p in VENDOR_DIR.rglob("*") if p.is_file()}
    assert set(listed) == set(files) - {f"{p.name}/package.json" for p in packages()}
    for rel, digest in listed.items():
        assert hashlib.sha256(files[rel].read_bytes()).hexdigest() == digest, rel


def test_the_map_assets_exist_and_are_leaflet_1_9_4() -> None:
    for _, rel in (*MAP_JS, *MAP_CSS):
        assert (VENDOR_DIR / rel).is_file()
    assert 't.version="1.9.4"' in (VENDOR_DIR / "leaflet" / "leaflet.js").read_text(encoding="utf-8")


def test_inlined_assets_need_no_other_file() -> None:
    css = inline_css("leaflet/leaflet.css")
    assert not re.search(r"url\((?!\"?data:|#)", css)
    assert css.count("data:image/png;base64,") == 3
    js = inline_js("leaflet/leaflet.js")
    assert "sourceMappingURL" not in js
    assert "</script" not in js.lower()


def test_streamlit_serves_the_static_folder_and_keeps_quiet() -> None:
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["enableStaticServing"] is True
    assert config["browser"]["gatherUsageStats"] is False
    assert VENDOR_DIR == REPO / "dashboard" / "static" / "vendor"
