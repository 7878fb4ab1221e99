"""When students see a test on Gradescope: its own module, so the command line can name the choices without importing the exporter."""

from __future__ import annotations

from enum import Enum


class Visibility(str, Enum):
    """When students see a test (or the whole result), as the specification defines it."""

    hidden = "hidden"  # never shown to students
    after_due_date = "after_due_date"  # after the due date (the late due date, when late work is allowed)
    after_published = "after_published"  # once the instructor publishes the grades ("Review Grades")
    visible = "visible"  # always (the default)
