"""Stand-in for `google.colab` during grading: nothing leaves the machine."""

from . import drive, files  # noqa: F401
