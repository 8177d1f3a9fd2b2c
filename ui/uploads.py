"""Accept uploaded article files: checked type and size, names that stay in the upload folder,
and never one upload silently replacing another.

A stored file's name becomes its article's source (and so its id), so two uploads that clean up
to the same name would be one article. The folder keeps a manifest (``.uploads.json``, hidden:
never read as an article) of who uploaded each stored name under which original name: the same
user uploading the same file name again replaces their file (the ingest reports "updated"), and
any other file whose name cleans to a taken one (another user's ``notes.txt``, or ``same
name.txt`` next to ``same_name.txt``) is stored under a new name (``same_name-2.txt``) and
becomes its own article.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from qa.pipeline.corpus import kind_of
from qa.pipeline.formats import listed

MAX_UPLOAD_MB = 32
MANIFEST = ".uploads.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MANIFEST_LOCK = threading.Lock()  # handlers run in threads: one manifest update at a time


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
    renamed: list[str] = field(default_factory=list)  # "x.txt: saved as x-2.txt (...)"


def numbered(name: str, number: int) -> str:
    """``notes.txt`` -> ``notes-2.txt``; ``data.json.gz`` -> ``data-2.json.gz``."""
    packed = name.endswith(".gz")
    base = name[:-3] if packed else name
    dot = base.rfind(".")
    stem, suffix = (base[:dot], base[dot:]) if dot > 0 else (base, "")
    return f"{stem}-{number}{suffix}{'.gz' if packed else ''}"


def _read_manifest(folder: Path) -> dict[str, dict[str, str]]:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return (
        {str(k): v for k, v in data.items() if isinstance(v, dict)}
        if isinstance(data, dict)
        else {}
    )


def _write_manifest(folder: Path, manifest: dict[str, dict[str, str]]) -> None:
    handle, name = tempfile.mkstemp(dir=folder, prefix=".uploads-", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(manifest, out, indent=1, sort_keys=True)
    os.replace(name, folder / MANIFEST)


def _stored_name(
    folder: Path, manifest: dict[str, dict[str, str]], owner: dict[str, str], taken: set[str]
) -> str:
    """The name to store an upload under: its own earlier name for the same user and original
    name, else its cleaned name, numbered until it is free."""
    cleaned = safe_name(owner["name"])
    candidate, number = cleaned, 1
    while candidate in taken or (
        manifest.get(candidate) != owner
        and (candidate in manifest or (folder / candidate).exists())
    ):
        number += 1
        candidate = numbered(cleaned, number)
    return candidate


def save_uploads(
    files: list[str], folder: Path, max_mb: float = MAX_UPLOAD_MB, user: str | None = None
) -> Saved:
    """Copy uploaded temp files into ``folder`` under safe names that no other upload holds
    (``user``: the login name, None without one); reject other types or sizes."""
    folder.mkdir(parents=True, exist_ok=True)
    saved = Saved()
    root = folder.resolve()
    with _MANIFEST_LOCK:
        manifest = _read_manifest(folder)
        taken: set[str] = set()  # names given in this upload
        for raw in files:
            source = Path(raw)
            if kind_of(Path(safe_name(source.name))) is None:
                saved.rejected.append(
                    f"{source.name}: not an article file (use {listed()}, or any of them .gz)"
                )
                continue
            size = source.stat().st_size
            if size > max_mb * 2**20:
                saved.rejected.append(
                    f"{source.name}: {size / 2**20:.1f} MB is over the upload limit of "
                    f"{max_mb:g} MB"
                )
                continue
            owner = {"user": user or "", "name": source.name}
            name = _stored_name(folder, manifest, owner, taken)
            target = (folder / name).resolve()
            if target.parent != root:  # belt and braces: safe_name already prevents this
                saved.rejected.append(f"{source.name}: file name not allowed")
                continue
            shutil.copyfile(source, target)
            taken.add(name)
            manifest[name] = owner
            saved.paths.append(target)
            if name != safe_name(source.name):
                saved.renamed.append(
                    f"{source.name}: saved as {name} (another uploaded file has that name), so it "
                    "is an article of its own"
                )
        if saved.paths:
            _write_manifest(folder, manifest)
    return saved
