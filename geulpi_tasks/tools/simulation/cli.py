"""``python -m geulpi_tasks.tools.simulation`` (also ``geulpi simulate``): drive a running system with labelled traffic,
show a live summary line with a progress bar, print the final report (and write it as JSON with ``--json-out``).

Exit code: 0 when every call succeeded, 1 when some failed, 2 for bad arguments or a failed set-up.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from geulpi_tasks.settings import Settings
from geulpi_tasks.tools.simulation.plan import TrafficConfig
from geulpi_tasks.tools.simulation.runner import HttpError, RunOptions, Simulation
from geulpi_tasks.tools.simulation.stats import format_report


def build_parser(prog: str = "python -m geulpi_tasks.tools.simulation") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Drive a running Geulpi API with realistic labelled "
                                     "traffic from the event generator and report what came back.")
    parser.add_argument("--url", default=None, help="API base URL (default: http://127.0.0.1:<GEULPI_API_PORT>).")
    parser.add_argument("--users", type=int, default=200, help="Distinct userIds (Zipf-like activity).")
    parser.add_argument("--rate", type=float, default=20.0, help="Mean planned requests per second.")
    parser.add_argument("--duration", type=float, default=60.0, help="Seconds of traffic.")
    parser.add_argument("--feedback-share", type=float, default=0.2,
                        help="Share of single classifications followed by feedback with the true label.")
    parser.add_argument("--batch-share", type=float, default=0.1, help="Share of batch classifications.")
    parser.add_argument("--analysis-share", type=float, default=0.05, help="Share of calendar analyses.")
    parser.add_argument("--max-batch", type=int, default=20, help="Largest batch (2..1000 events).")
    parser.add_argument("--bursts", action="store_true", help="Cycle of normal load, 4x bursts and idle pauses.")
    parser.add_argument("--ab-experiment", action="store_true",
                        help="Run a 50/50 experiment production vs the newest other version; stopped at the end.")
    parser.add_argument("--train-challenger", action="store_true",
                        help="With --ab-experiment: train a second version through the API if there is none.")
    parser.add_argument("--model", default=None, help="Registered model (default: GEULPI_MODEL_NAME).")
    parser.add_argument("--concurrency", type=int, default=16, help="Client threads (one connection each).")
    parser.add_argument("--timeout", type=float, default=None,
                        help="Client timeout per call in seconds (default: GEULPI_SYNC_TIMEOUT + 5).")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--api-key", default=None,
                        help="Bearer key for mutating calls (default: GEULPI_API_KEY, else <data_dir>/api-key).")
    parser.add_argument("--json-out", type=Path, default=None, help="Also write the full report here as JSON.")
    parser.add_argument("--no-progress", action="store_true", help="No progress bar (for logs and CI).")
    return parser


def resolve_api_key(explicit: str | None, settings: Settings) -> str | None:
    """--api-key, else GEULPI_API_KEY, else the key scripts/start keeps in <data_dir>/api-key, else None."""
    if explicit:
        return explicit
    if settings.client_api_key:
        return settings.client_api_key
    try:
        key = (settings.data_dir / "api-key").read_text().strip()
    except OSError:
        return None
    return key or None


def main(argv: Sequence[str] | None = None, *, settings: Settings | None = None, prog: str | None = None) -> int:
    args = build_parser(prog or "python -m geulpi_tasks.tools.simulation").parse_args(
        list(argv) if argv is not None else None)
    settings = settings or Settings.from_env()
    config = TrafficConfig(users=args.users, rate=args.rate, duration_s=args.duration,
                           feedback_share=args.feedback_share, batch_share=args.batch_share,
                           analysis_share=args.analysis_share, max_batch=args.max_batch, bursts=args.bursts,
                           seed=args.seed)
    options = RunOptions(base_url=args.url or f"http://127.0.0.1:{settings.api_port}",
                         api_key=resolve_api_key(args.api_key, settings), concurrency=args.concurrency,
                         timeout_s=args.timeout or settings.sync_timeout_s + 5.0,
                         model_name=args.model or settings.model_name, ab_experiment=args.ab_experiment,
                         train_challenger=args.train_challenger, progress=not args.no_progress)
    try:
        if options.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        simulation = Simulation(config, options)
        report = simulation.run()
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (HttpError, OSError) as err:
        print(f"error: set-up call failed: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 1
    print(format_report(report))
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
        print(f"report written to {args.json_out}")
    return 0 if report["errors"]["total"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
