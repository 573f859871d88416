"""The naive baseline: a Flask view calling the scikit-learn model's predict_proba in the web process, as the
original server did. Only for bench/bench_serving.py; never part of the product."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, request

from geulpi_tasks.models.runtime import load_reference
from geulpi_tasks.schemas import parse_event


def create_naive_app(bundle_dir: Path) -> Flask:
    model = load_reference(bundle_dir)
    app = Flask("naive")

    @app.post("/classify-event")
    def classify() -> Any:
        event = parse_event(request.get_json(force=True))
        probs = model.predict_proba([event])[0]
        best = int(probs.argmax())
        return {"eventType": model.classes[best], "confidence": float(probs[best])}

    return app


def wsgi_app() -> Flask:
    return create_naive_app(Path(os.environ["NAIVE_BUNDLE_DIR"]))
