"""Everything that draws: the live web map, the PNG map image and the PDF briefing.

- :mod:`geo.render.palette`: the colours, zone styles and legend texts every output shares.
- :mod:`geo.render.webmap`: folium maps for the dashboard, and the standalone HTML export.
- :mod:`geo.render.image`: the PNG map image (matplotlib, offline).
- :mod:`geo.render.pdf`: the PDF briefing (fpdf2): map, key figures, trend, breaches.
- :mod:`geo.render.around`: what every output draws, gathered around the scenario's centre
  longitude, so that a scenario across ±180° is drawn in one place.
- :mod:`geo.render.fonts`, :mod:`geo.render.text`, :mod:`geo.render.figure`: the shipped
  fonts and text shaping, text formatting, and the matplotlib plumbing that the image and
  the PDF share.

Nothing here touches matplotlib's global state, and nothing imports streamlit.
"""
