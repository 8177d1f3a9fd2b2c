"""Embedding models (loaded from disk only) and the FAISS vector index.

Nothing heavy (torch, faiss) is imported here; each loads when first needed.
"""

from embeddings.base import Embedder, EmbeddingError, Vectors
from embeddings.batching import embed_sorted
from embeddings.hashing import HashEmbedder
from embeddings.index import VectorIndex
from embeddings.models import load_embedder
from embeddings.sentence import DEFAULT_MODEL, SentenceTransformerEmbedder, default_model_path

__all__ = [
    "DEFAULT_MODEL",
    "Embedder",
    "EmbeddingError",
    "HashEmbedder",
    "SentenceTransformerEmbedder",
    "VectorIndex",
    "Vectors",
    "default_model_path",
    "embed_sorted",
    "load_embedder",
]
