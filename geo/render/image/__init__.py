"""The PNG map image of an incident view (the "snapshot" export), drawn with matplotlib, offline.

- :mod:`.map_image`: :func:`render_map_image` (a :class:`MapImage`: the PNG and where
  everything is in it) and :func:`render_map_png` (the bytes);
- :mod:`.layout`: the axes rectangles and the frame (banner, title block, footer);
- :mod:`.basemap`: sea, land, country names and the graticule;
- :mod:`.symbols`: zones, incidents and lines;
- :mod:`.scale_and_north`: the scale bar and the north arrow;
- :mod:`.legend`: the legend panel beside the map.
"""

from geo.render.image.basemap import BASEMAP
from geo.render.image.map_image import MAX_DPI, MIN_DPI, SIZES, MapImage, render_map_image, render_map_png

__all__ = ["BASEMAP", "MAX_DPI", "MIN_DPI", "SIZES", "MapImage", "render_map_image", "render_map_png"]
