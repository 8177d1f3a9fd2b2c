"""Readers for formats that are not plain text: PDF, Word, web pages and feeds.

Each reader turns bytes (or an address) into ``qa.pipeline.formats.Record``s, or raises
``FormatError`` with one line written for users. ``qa.pipeline.corpus`` dispatches to them by
file extension.
"""
