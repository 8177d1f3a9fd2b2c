"""Accept uploaded article files: checked type and size, names that stay in the upload folder."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from qa.pipeline.corpus import kind_of
from qa.pipeline.formats import listed

MAX_UPLOAD_MB = 32
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """A file name that cannot leave its folder: no separators, no leading dots, no ``..``."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = _UNSAFE.sub("_", base).lstrip(".")
    cleaned = re.sub(r"\.{2,}", ".", cleaned)
    return cleaned[:120] or "upload"


@dataclass
class Saved:
    paths: list[Path] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


def save_uploads(files: list[str], folder: Path, max_mb: float = MAX_UPLOAD_MB) -> Saved:
    """Copy uploaded temp files into ``folder`` under safe names; reject other types or sizes."""
    folder.mkdir(parents=True, exist_ok=True)
    saved = Saved()
    root = folder.resolve()
    for raw in files:
        source = Path(raw)
        name = safe_name(source.name)
        if kind_of(Path(name)) is None:
            saved.rejected.append(
                f"{source.name}: not an article file (use {listed()}, or any of them .gz)"
            )
            continue
        size = source.stat().st_size
        if size > max_mb * 2**20:
            saved.rejected.append(
                f"{source.name}: {size / 2**20:.1f} MB is over the upload limit of {max_mb:g} MB"
            )
            continue
        target = (folder / name).resolve()
        if target.parent != root:  # belt and braces: safe_name already prevents this
            saved.rejected.append(f"{source.name}: file name not allowed")
            continue
        shutil.copyfile(source, target)
        saved.paths.append(target)
    return saved
