"""Monitoring: Prometheus metrics, the prediction log, reference snapshots, drift, alert rules and the dashboard.

Importable without Flask or a Celery worker; every function takes its Redis client and key prefix as arguments.
"""
