"""Renderers: the model in, pages (Markdown for MkDocs), `catalog.json` out."""

from .pages import render_pages

__all__ = ["render_pages"]
