"""The map's shipped scripts, stylesheet and element templates: each parses on its own."""

from __future__ import annotations

import ast
from pathlib import Path

import esprima
import jinja2
import pytest
import tinycss2
from folium.template import Environment

from geo.render.webmap import resources

FILES = sorted(p.name for p in Path(str(resources.TEMPLATES)).iterdir() if p.is_file())
WEBMAP = Path(resources.__file__).resolve().parent
RENDER = WEBMAP.parent


def by_suffix(suffix: str) -> list[str]:
    found = [name for name in FILES if name.endswith(suffix)]
    assert found, suffix
    return found


@pytest.mark.parametrize("name", by_suffix(".js"))
def test_every_script_is_valid_javascript_on_its_own(name: str) -> None:
    tree = esprima.parseScript(resources.text(name), {"tolerant": False})
    assert tree.body, name


def test_the_library_defines_the_functions_the_templates_call() -> None:
    tree = esprima.parseScript(resources.script_library())
    assigned = set()

    def visit(node: object) -> None:
        if isinstance(node, esprima.nodes.Node):
            target = node.left if node.type == "AssignmentExpression" else None
            if (
                target is not None
                and target.type == "MemberExpression"
                and getattr(target.object, "name", "") == "T"
            ):
                assigned.add(target.property.name)
            for value in vars(node).values():
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(tree)
    called = {"markers", "hexCells", "control", "foldOnNarrow"}
    assert called <= assigned
    for name in by_suffix(".html.j2"):
        text = resources.text(name)
        for fn in called:
            if f"window.Truceline.{fn}(" in text:
                assert fn in assigned


@pytest.mark.parametrize("name", by_suffix(".css"))
def test_every_stylesheet_parses(name: str) -> None:
    rules = tinycss2.parse_stylesheet(resources.text(name), skip_comments=True, skip_whitespace=True)
    assert rules
    errors = [r for r in rules if r.type == "error"]
    for rule in rules:
        if rule.type == "qualified-rule":
            declarations = tinycss2.parse_declaration_list(
                rule.content, skip_comments=True, skip_whitespace=True
            )
            errors += [d for d in declarations if d.type == "error"]
            assert any(d.type == "declaration" for d in declarations), tinycss2.serialize(rule.prelude)
    assert errors == [], [e.message for e in errors]


@pytest.mark.parametrize("name", by_suffix(".html.j2"))
def test_every_template_compiles_and_defines_a_folium_macro(name: str) -> None:
    env = Environment()
    try:
        tree = env.parse(resources.text(name))
    except jinja2.TemplateSyntaxError as err:  # pragma: no cover - the assertion explains
        pytest.fail(f"{name}: {err}")
    macros = {m.name for m in tree.find_all(jinja2.nodes.Macro)}
    assert macros & {"header", "html", "script"}, name
    env.from_string(resources.text(name))


@pytest.mark.parametrize("name", [*by_suffix(".js"), *by_suffix(".css")])
def test_scripts_and_styles_survive_brancas_second_jinja_pass(name: str) -> None:
    """branca compiles every rendered element again as Jinja: no tag may open in our code."""
    text = resources.text(name)
    for tag in ("{{", "{%", "{#", "</script", "</style", "<!--"):
        assert tag not in text, (name, tag)


def test_no_javascript_in_python_strings() -> None:
    """Scripts live in ``templates/``: a Python string holds at most a one-line call."""
    for path in sorted(RENDER.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                text = node.value
                looks_like_js = any(k in text for k in ("function (", "function(", "var ", "=> {", "L."))
                assert not (looks_like_js and "\n" in text.strip()), f"{path}:{node.lineno}"
