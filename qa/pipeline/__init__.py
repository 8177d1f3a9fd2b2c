"""What happens to an article and to a question, store-independent: reading files (``corpus``,
``formats``), cutting chunks (``chunking``, ``sentences``, ``tokens``), ingesting (``ingest``),
retrieving (``retrieval``, ``lexical``), answering (``answer``, ``conversation``)."""
