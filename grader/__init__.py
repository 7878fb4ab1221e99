"""grader: an auto-grader for Jupyter notebook answers to deep-learning exercises."""

__version__ = "0.1.0"
