"""The PDF briefing of an incident view (fpdf2): the map, key figures, trend, spikes and breaches.

- :mod:`.briefing_pdf`: :func:`render_briefing_pdf`, the one call;
- :mod:`.period`: the key-figures period, the previous one, and the history they need;
- :mod:`.document`: the document (fonts, running header and footer, headings, tables);
- :mod:`.pages`: the map page, the key-figures page and the breaches pages;
- :mod:`.kpi`, :mod:`.chart`, :mod:`.breaches`: the key-figures tables, the trend chart
  and the table of breaches.
"""

from geo.render.pdf.briefing_pdf import MAX_ROWS, render_briefing_pdf
from geo.render.pdf.kpi import kpi_table
from geo.render.pdf.period import Period, history_since, key_period

__all__ = ["MAX_ROWS", "Period", "history_since", "key_period", "kpi_table", "render_briefing_pdf"]
