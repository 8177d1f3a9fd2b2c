"""Opening an index folder: its config, its store and the model that searches it.

``Assistant.open`` (qa/assistant.py) calls ``open_folder`` and wraps what it returns. A new
index gets the options asked for; an existing one keeps its own, and asking for others is an
``IndexFormatError`` or a ``ModelMismatchError`` with the way on. A lost or damaged config.json
does not stop the opening: ``OpenedIndex.problem`` says what is wrong, and the facade refuses
all but ``check`` and ``repair`` while it is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from embeddings import Embedder
from qa.config import (
    DEFAULT_SENTENCE_VECTORS,
    SENTENCE_VECTORS,
    IndexConfig,
    check_same_model,
    load_model,
    missing_config,
    model_spec,
    read_config,
    same_config,
)
from qa.errors import (
    IndexConfigError,
    IndexFormatError,
    IndexNotFoundError,
    ModelMismatchError,
    translated_os_errors,
)
from qa.layout import CONFIG_FILE, DB_FILE
from qa.pipeline.chunking import (
    DEFAULT_CHUNK_TOKENS,
    DEFAULT_OVERLAP_TOKENS,
    MIN_CHUNK_TOKENS,
    Chunker,
)
from qa.stores.base import IndexStore
from qa.stores.factory import normalize_store, open_store


@dataclass(frozen=True)
class OpenedIndex:
    """What ``open_folder`` found or chose: the store is open, and the embedder is the index's
    own (or the one asked for, for a new index)."""

    store: IndexStore
    config: IndexConfig | None  # None: a new index (config.json is written on first ingest)
    problem: IndexConfigError | None  # what is wrong with config.json, or None
    embedder: Embedder
    chunk_tokens: int
    overlap_tokens: int
    store_uri: str | None  # as config.json records it (None: the embedded store)
    sentence_vectors: str


def open_folder(
    folder: Path,
    *,
    model: str | None,
    backend: str | None,
    embedder: Embedder | None,
    chunk_tokens: int | None,
    overlap_tokens: int | None,
    create: bool,
    store: str | None,
    sentence_vectors: str | None,
) -> OpenedIndex:
    """Open the index in ``folder`` (``Assistant.open`` documents the options)."""
    asked_store = normalize_store(store, folder)  # a bad --store fails before any write
    new_chunks, new_overlap = chunk_sizes(chunk_tokens, overlap_tokens)  # so does a bad pair
    with translated_os_errors(folder):
        config, problem = _find_config(folder, create)
        if config is not None and store is not None and asked_store != config.store:
            raise IndexFormatError(
                f"The index in {folder} keeps its chunks in "
                f"{config.store or 'the embedded store'}, not "
                f"{asked_store or 'the embedded store'}. Leave --store out, or ingest into a "
                "new index folder (--index)."
            )
        store_uri = config.store if config is not None else asked_store
        had_database = (folder / DB_FILE).exists()
        if problem is not None and not had_database:  # nothing keeps a copy of the config
            raise IndexConfigError(
                problem.what,
                "This index keeps no copy of it: move the folder away and ingest your "
                "articles again into a new one.",
            )
        chosen: Embedder | None = embedder

        def dimension() -> int:  # a new index's vector size, from its model
            if config is not None:
                return config.dimension
            assert chosen is not None
            return chosen.dimension

        opened = open_store(store_uri, folder, dimension)
        try:
            if had_database:
                config, problem = _compare_config(folder, config, problem, opened)
            if config is None:
                chosen = chosen or load_model(model, backend)
                chunks, overlap = new_chunks, new_overlap
                pooling = sentence_vectors or DEFAULT_SENTENCE_VECTORS
                if pooling not in SENTENCE_VECTORS:
                    raise IndexFormatError(
                        f"sentence_vectors must be one of {', '.join(SENTENCE_VECTORS)}, "
                        f"not {pooling!r}."
                    )
            else:
                chosen = _model_for(folder, config, chosen, model, backend)
                for name, asked, built in (
                    ("chunk_tokens", chunk_tokens, config.chunk_tokens),
                    ("overlap_tokens", overlap_tokens, config.overlap_tokens),
                ):
                    if asked is not None and asked != built:
                        raise IndexFormatError(
                            f"The index in {folder} was built with {name}={built}. To use "
                            f"{asked}, ingest into a new index folder (--index)."
                        )
                chunks, overlap = config.chunk_tokens, config.overlap_tokens
                pooling = config.sentence_vectors
                if sentence_vectors is not None and sentence_vectors != pooling:
                    raise IndexFormatError(
                        f"The index in {folder} makes its sentence vectors the {pooling!r} "
                        f"way, not {sentence_vectors!r}. Leave it out, or ingest into a new "
                        "index folder."
                    )
        except BaseException:
            opened.close()
            raise
    assert chosen is not None
    return OpenedIndex(opened, config, problem, chosen, chunks, overlap, store_uri, pooling)


def chunk_sizes(chunk_tokens: int | None, overlap_tokens: int | None) -> tuple[int, int]:
    """A new index's chunk and overlap sizes, checked. An overlap left out is the default, or a
    fifth of a smaller chunk ("--chunk-tokens 32" overlaps by 6, not by the default 40)."""
    chunks = chunk_tokens or DEFAULT_CHUNK_TOKENS
    fifth = min(DEFAULT_OVERLAP_TOKENS, chunks // 5)
    overlap = fifth if overlap_tokens is None else overlap_tokens
    try:
        Chunker(len, chunks, overlap)  # the chunker's own check of the pair, before any write
    except ValueError as error:
        raise IndexFormatError(
            f"{error}: give an overlap from 0 to {max(chunks - 1, 0)} (--overlap-tokens "
            f"{fifth}, say), and chunks of at least {MIN_CHUNK_TOKENS} tokens."
        ) from None
    return chunks, overlap


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of a file, None when there is none: a replaced file has another."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _shown(folder: Path) -> str:
    """A folder as people write it: a relative one with its ``./`` ("./index")."""
    text = str(folder)
    return text if folder.is_absolute() or text.startswith(".") else f"./{text}"


def _find_config(folder: Path, create: bool) -> tuple[IndexConfig | None, IndexConfigError | None]:
    """The folder's config (made if missing and ``create``), or the error that its config.json
    is damaged: ``qa check --repair`` may rebuild it, so opening goes on."""
    if not folder.exists():
        if not create:
            raise IndexNotFoundError(
                f"No index found in {_shown(folder)}. Create one with: "
                f"qa ingest PATH --index {folder}"
            )
        folder.mkdir(parents=True, exist_ok=True)  # another process may race us
    elif not folder.is_dir():
        raise IndexFormatError(f"{folder} is a file, not an index folder.")
    # Look for files first, then for the database: another process creating this index
    # makes the database before anything else, so this order cannot race with it.
    elif (
        any(folder.iterdir())
        and not (folder / DB_FILE).exists()
        and not (folder / CONFIG_FILE).exists()
    ):
        raise IndexFormatError(
            f"{folder} is not an article-qa index (it has files but no {DB_FILE}). "
            "Pick an empty or new folder for --index."
        )
    try:
        return read_config(folder), None
    except IndexConfigError as error:
        return None, error


def _compare_config(
    folder: Path, config: IndexConfig | None, problem: IndexConfigError | None, store: IndexStore
) -> tuple[IndexConfig | None, IndexConfigError | None]:
    """config.json against the copy the store keeps: (the config to work with, what is wrong
    with config.json or None). A lost or changed config is never replaced silently: the caller
    refuses all but ``check`` and ``repair`` while ``problem`` is set."""
    recorded = store.recorded_config()
    if config is None and problem is None and (recorded is not None or store.has_chunks()):
        problem = missing_config(folder)
    if config is not None and recorded is not None and not same_config(config, recorded, False):
        problem = IndexConfigError(
            f"{folder / CONFIG_FILE} differs from the copy the index database keeps (changed "
            "by another program, or damaged)."
        )
    if problem is None:
        return config, None
    if recorded is None:
        raise IndexConfigError(
            problem.what,
            "The index database keeps no copy of it (the index was written by an older "
            "article-qa), so nobody knows which model built the stored vectors: move the "
            "folder away and ingest your articles again into a new one.",
        )
    return recorded, problem


def _model_for(
    folder: Path,
    config: IndexConfig,
    embedder: Embedder | None,
    model: str | None,
    backend: str | None,
) -> Embedder:
    """The embedder an existing index is searched with: its own model and backend."""
    if backend is not None and backend != config.backend:
        raise ModelMismatchError(
            f"The index in {folder} was built with the {config.backend} backend, not "
            f"{backend}. Leave --backend out, or ingest into a new index folder (--index)."
        )
    spec = model if model is not None else model_spec(config)
    chosen = embedder or load_model(spec, config.backend)
    check_same_model(config, chosen, folder)
    return chosen
