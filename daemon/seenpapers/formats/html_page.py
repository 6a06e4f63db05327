"""Placeholder: being written."""

from ..entry import ParseError


def parse(text, *, name, mtime):
    raise ParseError("format not supported yet")
