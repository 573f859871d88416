"""Stable, dotted task names: the API enqueues by name so it never imports the heavy worker code."""

INFERENCE_PING = "geulpi.inference.ping"
CLASSIFY_EVENT = "geulpi.inference.classify_event"
CLASSIFY_EVENTS = "geulpi.inference.classify_events"
# Single classifications the API coalesced into one message (api/coalescer.py); answered one by one.
CLASSIFY_COALESCED = "geulpi.inference.classify_coalesced"
ANALYZE_BALANCE = "geulpi.inference.analyze_balance"
OPTIMIZE_SCHEDULE = "geulpi.inference.optimize_schedule"
DETECT_PATTERNS = "geulpi.inference.detect_patterns"
ANALYZE_BURNOUT = "geulpi.inference.analyze_burnout"
ENSURE_PRODUCTION_MODEL = "geulpi.training.ensure_production_model"
STOP_EXPIRED_EXPERIMENTS = "geulpi.monitoring.stop_expired_experiments"
COMPARE_VERSIONS = "geulpi.training.compare_versions"
COMPARE_FOR_APPROVAL = "geulpi.training.compare_for_approval"
SCAN_DRIFT = "geulpi.monitoring.scan_drift"
EVALUATE_ALERTS = "geulpi.monitoring.evaluate_alerts"
TRAIN_MODEL = "geulpi.training.train_model"
RUN_SEARCH_TRIALS = "geulpi.training.run_search_trials"
NIGHTLY_RETRAIN = "geulpi.training.nightly_retrain"

QUEUE_INFERENCE = "inference"
QUEUE_TRAINING = "training"
QUEUE_MONITORING = "monitoring"
QUEUES = (QUEUE_INFERENCE, QUEUE_TRAINING, QUEUE_MONITORING)

# Routing by name prefix: a training job can never sit in front of a prediction.
ROUTES = {
    "geulpi.inference.*": {"queue": QUEUE_INFERENCE},
    "geulpi.training.*": {"queue": QUEUE_TRAINING},
    "geulpi.monitoring.*": {"queue": QUEUE_MONITORING},
}
