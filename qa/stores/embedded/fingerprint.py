"""Checksums of the files beside the database (``vectors.faiss``, the keyword cache's arrays).

Each file's fingerprint is recorded in the database when the file is written: its size, its
modification time, a SHA-256 of the whole file, and a SHA-256 of ``SAMPLE_BLOCKS`` blocks spread
over it. Opening an index checks the cheap part (``quick_ok``): a file of another size is
damaged; one whose modification time changed since it was written (edited, or copied without
keeping times) is hashed in full; an untouched one has its sampled blocks compared, which costs a
few milliseconds whatever the size (benchmarks/integrity.py). ``qa check`` hashes every file in
full (``full_ok``).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from embeddings.index import file_sha256

SAMPLE_BLOCKS = 64
BLOCK_BYTES = 4096


@dataclass(frozen=True)
class Fingerprint:
    size: int
    mtime_ns: int
    sample_sha256: str
    sha256: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @staticmethod
    def from_json(text: str | None) -> Fingerprint | None:
        """The recorded fingerprint, or None when there is none (or it is not readable)."""
        if not text:
            return None
        try:
            data = json.loads(text)
            fingerprint = Fingerprint(
                int(data["size"]), int(data["mtime_ns"]), str(data["sample_sha256"]),
                str(data["sha256"]),
            )  # fmt: skip
        except (ValueError, TypeError, KeyError):
            return None
        return fingerprint


def sample_sha256(path: Path, size: int) -> str:
    """SHA-256 of the file's size and ``SAMPLE_BLOCKS`` blocks spread evenly over it (the first
    and the last included: headers and the tail FAISS writes last)."""
    digest = hashlib.sha256(str(size).encode())
    last = max(size - BLOCK_BYTES, 0)
    offsets = sorted({last * n // (SAMPLE_BLOCKS - 1) for n in range(SAMPLE_BLOCKS)})
    with open(path, "rb") as handle:
        for offset in offsets:
            handle.seek(offset)
            digest.update(handle.read(BLOCK_BYTES))
    return digest.hexdigest()


def take(path: Path, sha256: str | None = None) -> Fingerprint:
    """The fingerprint of ``path`` as it is now (``sha256``: its full hash, when known)."""
    info = path.stat()
    return Fingerprint(
        size=info.st_size,
        mtime_ns=info.st_mtime_ns,
        sample_sha256=sample_sha256(path, info.st_size),
        sha256=sha256 or file_sha256(path),
    )


def quick_ok(path: Path, recorded: Fingerprint) -> bool:
    """Whether ``path`` still looks like the file that was recorded (see the module's doc)."""
    try:
        info = os.stat(path)
        if info.st_size != recorded.size:
            return False
        if info.st_mtime_ns != recorded.mtime_ns:
            return file_sha256(path) == recorded.sha256
        return sample_sha256(path, info.st_size) == recorded.sample_sha256
    except OSError:
        return False


def full_ok(path: Path, recorded: Fingerprint) -> bool:
    try:
        return path.stat().st_size == recorded.size and file_sha256(path) == recorded.sha256
    except OSError:
        return False
