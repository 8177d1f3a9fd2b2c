"""Names of an index folder's files, where the commands look for the folder, and its size.

Kept apart (the standard library only) so the CLI's option parsing, the error messages and the
stores can all name the same files without loading the package behind them.
"""

from pathlib import Path

INDEX_ENV = "QA_INDEX"
DEFAULT_INDEX = "index"
DB_FILE = "index.sqlite"
CONFIG_FILE = "config.json"
# Every index folder holds it (qa/locking.py), so a folder walk knows an index when it meets one.
LOCK_FILE = "write.lock"


def disk_bytes(path: Path) -> int:
    """Bytes in a file, or in the files of a folder (an index folder; Milvus Lite's .db may be
    either)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
