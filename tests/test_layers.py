"""Every import points down: a module imports only from its own layer or the layers below it.

``LAYERS`` is the one table of the layout (docs/architecture.md draws it), top first. A module
belongs to the layer of the longest name in the table that is it or a package above it; a new
module outside every entry fails here until the table says where it belongs. Imports inside
functions and under ``TYPE_CHECKING`` count too: they are arrows a reader follows all the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("shells", ("ui", "qa.cli", "qa.__main__", "qa.testing", "qa.mcp_server")),
    ("public API", ("qa",)),  # qa/__init__.py: the facade's names, loaded lazily
    (
        "facade and services",
        (
            "qa.assistant",
            "qa.opening",
            "qa.watch",
            "qa.scope",
            "qa.conversations",
            "qa.llm",
            "qa.eval",
            "qa.training",
        ),
    ),
    ("pipeline", ("qa.pipeline",)),
    ("stores", ("qa.stores",)),
    ("index files", ("qa.config", "qa.locking")),
    (
        "base",
        (
            "qa.types",
            "qa.dates",
            "qa.errors",
            "qa.layout",
            "qa.lexical",
            "qa.wording",
            "qa.limits",
            "qa.plugins",
            "qa.links",
        ),
    ),
    ("embeddings", ("embeddings",)),
)
PACKAGES = ("qa", "embeddings", "ui")


def layer_of(module: str) -> int | None:
    """The index in ``LAYERS`` of ``module``'s layer (None: no entry holds it). An entry holds
    the module it names and the modules under it, except ``qa``: that is qa/__init__.py alone,
    so each module of qa/ needs an entry of its own."""
    best: tuple[int, int | None] = (-1, None)
    for index, (_, names) in enumerate(LAYERS):
        for name in names:
            inside = module.startswith(name + ".") and name != "qa"
            if (module == name or inside) and len(name) > best[0]:
                best = (len(name), index)
    return best[1]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names), wherever the import statement stands."""
    source = path.read_text(encoding="utf-8")
    return imports_of(source, module_name(path), package=path.name == "__init__.py")


def imports_of(source: str, module: str, package: bool = False) -> set[str]:
    """What the code ``source`` of ``module`` imports from this project's packages."""
    parent = module if package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from ..x import y
                base = parent.split(".")[: len(parent.split(".")) - node.level + 1]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            found.add(origin)
            # `from qa.stores import base` imports the module qa.stores.base.
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in PACKAGES and _exists(name)}


def _exists(module: str) -> bool:
    path = ROOT.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def upward(importer: str, imported: str) -> str | None:
    """Why ``importer`` may not import ``imported`` (None: it may)."""
    source, target = layer_of(importer), layer_of(imported)
    if source is None or target is None or target >= source:
        return None
    return (
        f"{importer} ({LAYERS[source][0]}) imports {imported} ({LAYERS[target][0]}), a layer above"
    )


SOURCES = sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    outside = [module_name(path) for path in SOURCES if layer_of(module_name(path)) is None]
    assert not outside, f"add these to LAYERS in tests/test_layers.py: {outside}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: module_name(path))
def test_imports_point_down(path: Path) -> None:
    wrong = [why for name in sorted(imports(path)) if (why := upward(module_name(path), name))]
    assert not wrong, "\n".join(wrong)


def test_an_upward_import_is_caught() -> None:
    """The check itself: a store importing the pipeline is refused, also written relatively."""
    assert upward("qa.stores.embedded.bm25", "qa.pipeline.corpus") is not None
    assert upward("qa.pipeline.answer", "qa.lexical") is None
    assert upward("qa.cli.commands", "qa.assistant") is None
    assert layer_of("qa.new_module") is None and layer_of("qa") == 1
    code = "def late():\n    from ...pipeline import corpus\nfrom ..base import Hits\n"
    found = imports_of(code, "qa.stores.embedded.bm25")
    assert found >= {"qa.pipeline.corpus", "qa.stores.base"}
    wrong = sorted(name for name in found if upward("qa.stores.embedded.bm25", name))
    assert wrong == ["qa.pipeline", "qa.pipeline.corpus"]
