"""What Flower and worker logs show of a task's arguments: short, valid JSON."""

import json

from api.task_repr import MAX_REPR_CHARS, args_repr


def test_small_arguments_are_plain_json():
    args = [{"title": "치과 예약 🦷", "eventId": "e-1", "duration": 30}]
    assert json.loads(args_repr(args)) == args
    assert "치과" in args_repr(args)  # readable, not \\uXXXX escapes


def test_long_lists_keep_a_few_items_and_the_count():
    events = [{"title": f"event {i}"} for i in range(1000)]
    shown = json.loads(args_repr([events]))
    assert shown[0][:2] == events[:2] and shown[0][-1] == "... 1000 items in all"


def test_huge_training_data_stays_under_the_limit_and_valid_json():
    request = {"model_type": "event_classifier", "n_optimization_trials": 5,
               "training_data": [{"title": "x" * 5000, "category": "WORK"}] * 20_000}
    text = args_repr([request])
    assert len(text) <= MAX_REPR_CHARS
    shown = json.loads(text)[0]
    assert shown["model_type"] == "event_classifier" and shown["n_optimization_trials"] == 5
    assert shown["training_data"][-1] == "... 20000 items in all"
    assert shown["training_data"][0]["title"].endswith("(5000 chars)")


def test_arguments_too_wide_even_when_shrunk_are_summarised():
    wide = [{f"field_{i}": i for i in range(500)}]
    assert json.loads(args_repr(wide)) == {"truncated": True, "chars": len(json.dumps(
        [{f"field_{i}": i for i in range(500)}], separators=(", ", ": ")))}


def test_a_failed_inference_task_shows_only_the_kind_of_error():
    import logging

    from celery.app.trace import LOG_FAILURE

    from workers.private_results import _DropInferenceResults, _kind_only

    assert _kind_only("RemoteError('{\"message\": \"startTime 2025-13-45 is not a date\"}')") == "RemoteError"
    assert _kind_only(None) == "error"
    record = logging.LogRecord("celery.app.trace", logging.ERROR, __file__, 1, LOG_FAILURE,
                               None, None)
    record.args = {"name": "geulpi.inference.classify_event", "id": "t1", "description": "raised unexpected",
                   "exc": "InvalidInput(\"'title' Therapy with Dr. Kim is too long\")"}
    assert _DropInferenceResults().filter(record) is True
    assert "Therapy" not in record.getMessage() and "InvalidInput" in record.getMessage()


def test_redacted_arguments_show_as_redacting_everything_first_would():
    from geulpi_tasks.privacy.redaction import redact

    secret = b"s3cret"
    events = [{"title": f"치료 {i}", "description": "" if i % 2 else "notes " * 40, "attendees": ["a@x.kr"] * (i % 3),
               "location": None, "nested": {"title": "x" * 300}} for i in range(1000)]
    for args in ([events], [events[:2], {"explain": True}], [{"title": "t", "training_data": events}], []):
        assert args_repr(args, secret=secret) == args_repr(redact(args, secret))
