"""Issue 11: every page in real Chromium with ``?lang=ar`` and ``?lang=fr``.

One server (the Lebanon pack, whose manifest names its zones, parties and rules in Arabic and
French) and one browser. Arabic reads right to left: the document's ``dir``, the computed
direction, the sidebar on the right, the map's legend and controls on the other side. The
navigation and the headings are in the language, and no English interface string remains in
the page's text (the same catalogue check as the AppTest one, on what the browser shows).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from geo.i18n import use_language
from geo.services.accounts import add_user
from geo.services.sessions import COOKIE_NAME
from geo.store import open_store
from tests.dashboard import support as dashboard_support
from tests.dashboard.test_languages import untranslated
from tests.e2e.conftest import PASSWORD, Server, map_frame, run_cli, streamlit_server, wait_for_run

pytestmark = pytest.mark.e2e

PAGES = dashboard_support.PAGES  # every page, the Alerts page among them
ARABIC = re.compile(r"[\u0600-\u06ff]")
HEADINGS = {
    "ar": {"live_map": "الخريطة المباشرة", "trends": "الاتجاهات", "zones": "المناطق والقواعد"},
    "fr": {"live_map": "Carte en direct", "trends": "Tendances", "zones": "Zones et règles"},
}
NAVIGATION = {
    "ar": {"الخريطة المباشرة", "الاتجاهات", "الحادثة", "الرفع", "التصدير", "المراجعة", "المناطق والقواعد"},
    "fr": {"Carte en direct", "Tendances", "Incident", "Téléverser", "Exporter", "Revue", "Zones et règles"},
}
SIGN_IN = {
    "ar": ("اسم المستخدم", "كلمة المرور", "تسجيل الدخول", "مسجَّل الدخول باسم"),
    "fr": ("Nom d'utilisateur", "Mot de passe", "Se connecter", "Connecté en tant que"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("e2e-languages")
    url = f"sqlite:///{folder / 'store.db'}"
    run_cli(url, "demo", "--scenario", "lebanon-2024", "--private")
    store = open_store(url)
    add_user(store, "ada", "admin", PASSWORD)
    store.close()
    with streamlit_server(url, folder / "streamlit.log") as running:
        yield running


def _sign_in(page: object, base: str, lang: str) -> None:
    user, password, button, signed = SIGN_IN[lang]
    page.goto(f"{base}/?lang={lang}")
    page.get_by_label(user).fill("ada")
    page.get_by_label(password, exact=True).fill(PASSWORD)
    page.get_by_role("button", name=button).click()
    page.get_by_text(signed).first.wait_for()
    for _ in range(100):  # the page trades its one-time ticket for the session cookie: wait for it
        if any(c["name"] == COOKIE_NAME for c in page.context.cookies()):
            return
        page.wait_for_timeout(100)
    pytest.fail("no session cookie after signing in")


def _check_page(page: object, lang: str, name: str) -> None:
    heading = page.locator("h1").first
    heading.wait_for()
    wait_for_run(page)
    title = heading.inner_text().strip()
    if name in HEADINGS[lang]:
        assert title == HEADINGS[lang][name]
    if lang == "ar":
        assert ARABIC.search(title), f"{name}: heading {title!r} is not Arabic"
    want = "rtl" if lang == "ar" else "ltr"
    page.wait_for_function(f"() => document.documentElement.dir === '{want}'", timeout=15_000)
    direction = page.evaluate(
        "() => [document.documentElement.dir, document.documentElement.lang,"
        " getComputedStyle(document.querySelector('[data-testid=stMain]')).direction]"
    )
    assert direction == [want, lang, want], f"{name}: {direction}"
    links = page.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()
    shown = {text.strip().splitlines()[-1].strip() for text in links if text.strip()}  # after the icon
    assert NAVIGATION[lang] <= shown, f"{name}: navigation {shown}"
    sidebar = page.locator('[data-testid="stSidebar"]').bounding_box()
    main = page.locator('[data-testid="stMain"]').bounding_box()
    if lang == "ar":
        assert sidebar["x"] > main["x"], f"{name}: the sidebar is not on the right"
    else:
        assert sidebar["x"] < main["x"] + 1
    icons = {(t or "").strip() for t in page.locator('[data-testid*="Icon"]').all_inner_texts()}
    lines = [line.strip() for line in page.inner_text("body").splitlines() if line.strip()]
    lines = [line for line in lines if line not in icons]  # an icon's name ("verified") is a glyph, not text
    with use_language(lang):
        assert untranslated(lines, lang) == [], f"{name} ({lang}): English in {lines}"


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_every_page_speaks_the_language_of_the_link(server: Server, new_page: object, lang: str) -> None:
    page, watch = new_page()
    _sign_in(page, server.url, lang)
    for name in PAGES:
        page.goto(f"{server.url}/{name}?lang={lang}")
        _check_page(page, lang, name)
        assert f"lang={lang}" in page.url  # the language stays in the address: a shared link keeps it
    # Charts are drawn left to right, in either language: Vega's labels would run off the edges.
    page.goto(f"{server.url}/trends?lang={lang}&window=all")
    label = page.locator('[data-testid="stVegaLiteChart"] svg .role-axis-label text').first
    label.wait_for()
    assert label.evaluate("e => getComputedStyle(e).direction") == "ltr"
    assert page.locator('[data-testid="stMain"]').evaluate("e => getComputedStyle(e).direction") == (
        "rtl" if lang == "ar" else "ltr"
    )
    # The map: its legend, layer list and zoom buttons, on the side a reader of the language expects.
    page.goto(f"{server.url}/live_map?lang={lang}")
    # Three parties make six KPIs in a row: each label wraps, none is cut off with an ellipsis.
    labels = page.locator('[data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"]')
    labels.first.wait_for()
    assert labels.count() == 6
    cut = labels.evaluate_all("bs => bs.filter(b => b.scrollWidth > b.clientWidth + 1).map(b => b.innerText)")
    assert cut == []
    frame = map_frame(page)
    legend = frame.locator(".tl-legend")
    legend.wait_for()
    corner = "left" if lang == "ar" else "right"
    other = "right" if lang == "ar" else "left"
    assert frame.locator(f".leaflet-bottom.leaflet-{corner} .tl-legend").count() == 1
    assert frame.locator(f".leaflet-top.leaflet-{other} .leaflet-control-zoom").count() == 1
    assert frame.locator(f".leaflet-top.leaflet-{corner} .leaflet-control-layers").count() == 1
    legend_text = legend.inner_text()
    assert ("مفتاح الخريطة" if lang == "ar" else "Légende") in legend_text
    assert ("خرق محتمل" if lang == "ar" else "Violation possible") in legend_text
    if lang == "ar":
        assert frame.locator(".tl-legend").evaluate("e => getComputedStyle(e).direction") == "rtl"
    watch.assert_clean()


def test_a_page_switch_keeps_the_language(server: Server, new_page: object) -> None:
    page, watch = new_page()
    _sign_in(page, server.url, "ar")
    page.locator('[data-testid="stSidebarNavLink"]', has_text="الاتجاهات").click()
    page.wait_for_url(re.compile(r"/trends\?.*lang=ar"))
    wait_for_run(page)
    assert page.locator("h1").first.inner_text().strip() == "الاتجاهات"
    watch.assert_clean()
