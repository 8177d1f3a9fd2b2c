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


def private_attributes(source: str) -> list[str]:
    """``obj._name`` uses on anything but ``self``/``cls`` (a script driving the product through
    its private methods breaks silently when they move: three benchmarks did after issue 14)."""
    uses = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute) or not _private(node.attr):
            continue
        owner = node.value
        if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
            uses.append((node.lineno, ast.unparse(node)))
    return [f"{line}: {text}" for line, text in sorted(uses)]


def test_the_attribute_scan_tells_self_from_others() -> None:
    source = "self._ok()\ncls._ok\nassistant._save_vectors()\nobject()._x\nx.__class__\n"
    assert private_attributes(source) == ["3: assistant._save_vectors", "4: object()._x"]


def test_benchmarks_use_the_public_api() -> None:
    found = {
        str(path.relative_to(ROOT)): uses
        for path in sorted((ROOT / "benchmarks").rglob("*.py"))
        if (uses := private_attributes(path.read_text(encoding="utf-8")))
    }
    assert found == {}
