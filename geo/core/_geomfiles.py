"""Read line and zone geometry files safely: GeoJSON, GeoPackage, Shapefile, KML.

Zipped files are unpacked by us, under a byte cap and with names we choose, so a zip
bomb or a ``../`` path cannot escape; KML with a DTD or entities is refused before
GDAL sees it.
"""

from __future__ import annotations

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

from geo._errors import GeometryFileError

MAX_UNZIPPED_BYTES = 256 * 1024 * 1024
MAX_ZIP_MEMBERS = 64
MAX_COMPRESSION_RATIO = 200
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml", ".kmz")


def _fail(file: str, key: str, problem: str) -> GeometryFileError:
    return GeometryFileError(f"{file}: {key}: {problem}")


def _check_kml(path: Path, key: str) -> None:
    try:
        DefusedET.parse(path, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as err:
        msg = f"refused KML with a DTD or entities ({type(err).__name__})"
        raise _fail(str(path), key, msg) from err
    except DefusedET.ParseError as err:
        raise _fail(str(path), key, f"not well-formed KML: {err}") from err


def _unzip(path: Path, key: str, into: Path) -> Path:
    """Unpack the one dataset in a zip into ``into``; return the file to open."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise _fail(str(path), key, "not a valid zip file") from err
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_ZIP_MEMBERS:
            raise _fail(str(path), key, f"zip holds {len(members)} files (limit {MAX_ZIP_MEMBERS})")
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
            raise _fail(str(path), key, problem)
        total = 0
        target = None
        for member in wanted:
            name = PurePosixPath(member.filename)
            if name.stem not in stems:
                continue
            if member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1) + 4096:
                raise _fail(str(path), key, f"zip member {name.name!r} has a suspicious compression ratio")
            out = into / f"data{name.suffix.lower()}"  # our name, never the archive's path
            with archive.open(member) as src, out.open("wb") as dst:
                while chunk := src.read(1 << 20):
                    total += len(chunk)
                    if total > MAX_UNZIPPED_BYTES:
                        raise _fail(str(path), key, f"zip unpacks to more than {MAX_UNZIPPED_BYTES} bytes")
                    dst.write(chunk)
            if name.suffix.lower() in (".shp", ".kml"):
                target = out
    if target is None:
        raise _fail(str(path), key, "zip holds no readable dataset")
    return target


def read_geometry_file(
    path: str | Path,
    *,
    key: str,
    layer: str | None = None,
    crs: str | None = None,
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

    Returns
    -------
    geopandas.GeoDataFrame
        The features, reprojected to EPSG:4326 lon/lat.
    """
    file = Path(path)
    if not file.is_file():
        raise _fail(str(file), key, "file not found")
    suffix = file.suffix.lower()
    if suffix not in SUFFIXES:
        raise _fail(str(file), key, f"unsupported format {suffix!r} (use one of {', '.join(SUFFIXES)})")
    workdir = Path(tempfile.mkdtemp(prefix="truceline-geom-"))
    try:
        target = file
        if suffix in (".zip", ".kmz"):
            target = _unzip(file, key, workdir)
        if target.suffix.lower() == ".kml":
            _check_kml(target, key)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frame = pyogrio.read_dataframe(target, layer=layer)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
            raise _fail(str(file), key, f"cannot read: {str(err).splitlines()[0]}") from err
        if frame.crs is None:
            if crs is None:
                raise _fail(
                    str(file), key, "the file declares no CRS (add a .prj, or set crs in the manifest)"
                )
            try:
                frame = frame.set_crs(CRS.from_user_input(crs))
            except CRSError as err:
                raise _fail(str(file), key, f"unknown crs {crs!r}") from err
        if len(frame) == 0:
            raise _fail(str(file), key, "the file holds no features")
        return frame.to_crs(4326)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
