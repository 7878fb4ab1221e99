"""Feedback for people: pure functions from a report to a page (no kernel, no grading)."""

from .html import render_html

__all__ = ["render_html"]
