"""Traffic simulator: drives a running system over HTTP with realistic labelled traffic from the generator.

``plan`` decides what is sent when (pure, seeded), ``stats`` summarises what came back (pure), ``runner`` sends it
with a thread pool of keep-alive connections,
``cli`` is ``python -m geulpi_tasks.tools.simulation`` / ``geulpi simulate``.
"""
