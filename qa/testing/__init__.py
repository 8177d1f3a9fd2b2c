"""Test kits other packages reuse: ``store_contract`` proves a store (pytest needed)."""
