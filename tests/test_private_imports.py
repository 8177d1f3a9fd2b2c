"""No module of the project uses a private name (``_name``) of another module (issue 14)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("qa", "ui", "embeddings")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_uses(source: str, modules: set[str], here: str = "") -> list[str]:
    """``module.name`` of each private name of another project module that ``source`` uses."""
    tree = ast.parse(source)
    aliases: dict[str, str] = {}  # local name -> project module it is bound to
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    aliases[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0]
                    )
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] not in PACKAGES or node.module == here:
                continue
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in modules:
                    aliases[alias.asname or alias.name] = full
                elif _private(alias.name):
                    uses.append(full)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            dotted = []
            value: ast.expr = node.value
            while isinstance(value, ast.Attribute):
                dotted.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in aliases:
                module = ".".join([aliases[value.id], *reversed(dotted)])
                if module in modules and module != here:
                    uses.append(f"{module}.{node.attr}")
    return uses


def test_the_scan_finds_both_forms() -> None:
    modules = {"qa", "qa.assistant", "qa.stores", "qa.stores.base"}
    source = (
        "from qa.assistant import _size, Assistant\n"
        "import qa.stores.base\n"
        "from qa import assistant as a\n"
        "qa.stores.base._hidden()\n"
        "a._clean_question('x')\n"
        "x = object()\n"
        "x._anything\n"
    )
    assert private_uses(source, modules) == [
        "qa.assistant._size",
        "qa.stores.base._hidden",
        "qa.assistant._clean_question",
    ]


def test_no_module_uses_another_modules_private_names() -> None:
    modules = _modules()
    found = {
        name: uses
        for name, path in sorted(modules.items())
        if (uses := private_uses(path.read_text(encoding="utf-8"), set(modules), name))
    }
    assert found == {}
