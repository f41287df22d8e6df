"""Read line and zone geometry files safely: GeoJSON, GeoPackage, Shapefile, KML.

Zipped files are unpacked by us, under a byte cap and with names we choose, so a zip
bomb or a ``../`` path cannot escape; KML with a DTD or entities is refused before
GDAL sees it. A CRS given by a link or a URL is refused before GDAL sees the file too:
GDAL would fetch it (see :mod:`geo._offline`).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path, PurePosixPath

import geopandas as gpd
import pyogrio
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as DefusedET
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo import _offline
from geo._errors import GeometryFileError

_offline.apply()

MAX_UNZIPPED_BYTES = 256 * 1024 * 1024
MAX_ZIP_MEMBERS = 64
MAX_COMPRESSION_RATIO = 200
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml", ".kmz")


_URL = re.compile(r"^\s*[a-zA-Z][a-zA-Z0-9+.-]*://")
_OGC_CRS_URL = re.compile(
    r"^https?://(?:www\.)?opengis\.net/def/crs/[A-Za-z0-9_.]+/[A-Za-z0-9_.]+/[A-Za-z0-9_.]+$"
)
"""The OGC's CRS names (``http://www.opengis.net/def/crs/EPSG/0/4326``): names, read offline."""
CRS_BY_LINK = (
    "a CRS given by link or URL is refused (Truceline never fetches one): name it, "
    "as EPSG:4326 or an OGC URN, or convert the file to EPSG:4326"
)


def _fail(file: str, key: str, problem: str) -> GeometryFileError:
    return GeometryFileError(f"{file}: {key}: {problem}")


def fetched_crs(value: object) -> bool:
    """
    Whether a CRS declaration would make a reader fetch something.

    Parameters
    ----------
    value
        A GeoJSON ``crs`` member, or a CRS string (a manifest's ``crs``).

    Returns
    -------
    bool
        ``True`` for a GeoJSON ``crs`` of type ``link`` or ``url``, and for any CRS
        named by a URL other than an OGC CRS name (``http://www.opengis.net/def/crs/…``).
    """
    if isinstance(value, dict):
        kind = str(value.get("type", "")).strip().lower()
        if kind in ("link", "url"):
            return True
        props = value.get("properties")
        names = props.values() if isinstance(props, dict) else ()
        return any(fetched_crs(v) for v in names if isinstance(v, str))
    if isinstance(value, str):
        return bool(_URL.match(value)) and not _OGC_CRS_URL.match(value.strip())
    return False


def _check_geojson_crs(path: Path, file: str, key: str) -> None:
    """Refuse a GeoJSON whose ``crs`` members (top level, feature or geometry) name a link or URL."""
    try:
        doc = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError, RecursionError):
        return  # not JSON: GDAL says why
    stack: list[object] = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "crs" in node and fetched_crs(node["crs"]):
                raise _fail(file, f"{key}: crs", CRS_BY_LINK)
            if "crs" in node:
                _check_named_crs(node["crs"], file, key)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _check_kml(path: Path, key: str, label: str) -> None:
    try:
        DefusedET.parse(path, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as err:
        msg = f"refused KML with a DTD or entities ({type(err).__name__})"
        raise _fail(label, key, msg) from err
    except DefusedET.ParseError as err:
        raise _fail(label, key, f"not well-formed KML: {err}") from err


def _unzip(path: Path, key: str, into: Path, label: str) -> Path:
    """Unpack the one dataset in a zip into ``into``; return the file to open."""
    try:
        return _unzip_checked(path, key, into, label)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError) as err:
        msg = f"not a valid zip file ({_first_line(err)})"
        raise _fail(label, key, msg) from err


def _unzip_checked(path: Path, key: str, into: Path, label: str) -> Path:
    archive = zipfile.ZipFile(path)
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_ZIP_MEMBERS:
            raise _fail(label, key, f"zip holds {len(members)} files (limit {MAX_ZIP_MEMBERS})")
        wanted = [
            m
            for m in members
            if PurePosixPath(m.filename).suffix.lower() in (*SHAPEFILE_PARTS, ".kml")
            and not PurePosixPath(m.filename).name.startswith(".")
        ]
        stems = {
            PurePosixPath(m.filename).stem
            for m in wanted
            if PurePosixPath(m.filename).suffix.lower() in (".shp", ".kml")
        }
        if len(stems) != 1:
            problem = (
                "zip holds no .shp or .kml" if not stems else f"zip holds several datasets: {sorted(stems)}"
            )
            raise _fail(label, key, problem)
        total = 0
        target = None
        for member in wanted:
            name = PurePosixPath(member.filename)
            if name.stem not in stems:
                continue
            if member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1) + 4096:
                raise _fail(label, key, f"zip member {name.name!r} has a suspicious compression ratio")
            out = into / f"data{name.suffix.lower()}"  # our name, never the archive's path
            with archive.open(member) as src, out.open("wb") as dst:
                while chunk := src.read(1 << 20):
                    total += len(chunk)
                    if total > MAX_UNZIPPED_BYTES:
                        raise _fail(label, key, f"zip unpacks to more than {MAX_UNZIPPED_BYTES} bytes")
                    dst.write(chunk)
            if name.suffix.lower() in (".shp", ".kml"):
                target = out
    if target is None:
        raise _fail(label, key, "zip holds no readable dataset")
    return target


def _check_named_crs(crs: object, file: str, key: str) -> None:
    """Refuse a GeoJSON ``crs`` name that PROJ does not know (GDAL would read the file as WGS84)."""
    if not isinstance(crs, dict) or str(crs.get("type", "")).lower() != "name":
        return
    props = crs.get("properties")
    name = props.get("name") if isinstance(props, dict) else None
    try:
        CRS.from_user_input(str(name))
    except CRSError as err:
        shown = str(name)[:80]
        raise _fail(file, f"{key}: crs", f"unknown CRS {shown!r}") from err


def read_geometry_file(
    path: str | Path,
    *,
    key: str,
    layer: str | None = None,
    crs: str | None = None,
    name: str | None = None,
) -> gpd.GeoDataFrame:
    """
    Read every feature of a geometry file and return it in EPSG:4326.

    Parameters
    ----------
    path
        A ``.geojson``/``.json``, ``.gpkg``, ``.shp``, zipped Shapefile, ``.kml`` or ``.kmz``.
    key
        The manifest key being read, for error messages (``line[mdl].file``).
    layer
        The layer to read from a multi-layer file such as a GeoPackage.
    crs
        The CRS to assume when the file declares none; without it such a file fails.
    name
        The file's name in messages (an uploaded file's own name, not the temporary
        path it was saved to); default: ``path``.

    Returns
    -------
    geopandas.GeoDataFrame
        The features, reprojected to EPSG:4326 lon/lat.
    """
    file = Path(path)
    label = str(file) if name is None else name
    if not file.is_file():
        raise _fail(label, key, "file not found")
    suffix = file.suffix.lower()
    if suffix not in SUFFIXES:
        raise _fail(label, key, f"unsupported format {suffix!r} (use one of {', '.join(SUFFIXES)})")
    if crs is not None and fetched_crs(crs):
        raise _fail(label, f"{key}: crs", CRS_BY_LINK)
    workdir = Path(tempfile.mkdtemp(prefix="truceline-geom-"))
    try:
        target = file
        if suffix in (".zip", ".kmz"):
            target = _unzip(file, key, workdir, label)
        if target.suffix.lower() == ".kml":
            _check_kml(target, key, label)
        if target.suffix.lower() in (".geojson", ".json"):
            _check_geojson_crs(target, label, key)
        frame = _read(target, key, label, layer)
        if frame.crs is None:
            if crs is None:
                raise _fail(label, key, "the file declares no CRS (add a .prj, or set crs in the manifest)")
            try:
                frame = frame.set_crs(CRS.from_user_input(crs))
            except CRSError as err:
                raise _fail(label, key, f"unknown crs {crs!r}") from err
        if len(frame) == 0:
            raise _fail(label, key, "the file holds no features")
        try:
            return frame.to_crs(4326)
        except (CRSError, ValueError, RuntimeError) as err:
            raise _fail(label, key, f"cannot convert to EPSG:4326: {_first_line(err)}") from err
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def _read(target: Path, key: str, label: str, layer: str | None) -> gpd.GeoDataFrame:
    """Every feature of one dataset; any reader failure is one line naming the file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pyogrio.read_dataframe(target, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
        raise _fail(label, key, f"cannot read: {_scrub(_first_line(err), target)}") from err
    except (pyogrio.errors.GeometryError, pyogrio.errors.FieldError, pyogrio.errors.CRSError) as err:
        raise _fail(label, key, f"cannot read: {_scrub(_first_line(err), target)}") from err
    except (ValueError, OSError, RuntimeError, MemoryError) as err:
        raise _fail(
            label, key, f"cannot read ({type(err).__name__}): {_scrub(_first_line(err), target)}"
        ) from err


def _scrub(text: str, target: Path) -> str:
    """A GDAL message without the (temporary) path it names."""
    for form in (str(target), target.as_posix(), str(target.parent)):
        text = text.replace(form, target.name)
    return text
