"""A scenario with its names and rule quotes in one language, where the manifest translates them."""

from __future__ import annotations

from dataclasses import replace

from geo.core.model import Scenario


def localized(scenario: Scenario, lang: str | None) -> Scenario:
    """
    ``scenario`` with the texts its manifest translates into ``lang``; the others as written.

    The scenario's name and description, each party's name and short name, each line's and
    zone's name, and each rule's quoted text. Ids, geometry and rules' meaning are untouched,
    so classification against the copy is the same.

    Parameters
    ----------
    scenario
        The scenario as loaded.
    lang
        A language code (``ar``, ``fr``); ``None`` or ``en`` gives ``scenario`` back when the
        manifest has no English variant either.
    """
    if not lang or not scenario.translations:
        return scenario
    text = scenario.text
    return replace(
        scenario,
        name=text("scenario.name", lang, scenario.name),
        description=text("scenario.description", lang, scenario.description),
        parties=tuple(
            replace(
                p,
                name=text(f"party[{p.id}].name", lang, p.name),
                short_name=text(f"party[{p.id}].short_name", lang, p.short_name),
            )
            for p in scenario.parties
        ),
        lines=tuple(replace(ln, name=text(f"line[{ln.id}].name", lang, ln.name)) for ln in scenario.lines),
        zones=tuple(replace(z, name=text(f"zone[{z.id}].name", lang, z.name)) for z in scenario.zones),
        rules=tuple(replace(r, text=text(f"rule[{r.id}].text", lang, r.text)) for r in scenario.rules),
    )
