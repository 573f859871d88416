"""Traces and structured logs: how one request is followed from the calendar app to the model and back."""
