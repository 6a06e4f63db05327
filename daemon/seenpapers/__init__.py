"""seenpapers: remembers every research paper that reached you."""

__version__ = "0.1.0"
