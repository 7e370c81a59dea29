"""A news-event monitor for recognitions of the Taliban government and Afghanistan sanctions changes."""

__version__ = "0.1.0"
