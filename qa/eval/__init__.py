"""``qa eval``: scoring retrieval and answers on SQuAD data (``evaluation``, ``metrics``)."""
