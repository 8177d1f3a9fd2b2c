"""Readers for formats that are not plain text: PDF, Word, web pages and feeds.

Each reader turns bytes (or an address) into ``qa.pipeline.records.Record``s, or raises
``FormatError`` with one line written for users. The formats table (``qa.pipeline.formats``)
names them by suffix.
"""
