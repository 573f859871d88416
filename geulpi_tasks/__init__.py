"""Geulpi Tasks: the machine-learning back end of the Geulpi calendar app."""

__version__ = "1.0.0"
