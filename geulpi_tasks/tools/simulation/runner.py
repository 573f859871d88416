"""Sends a traffic plan to a running API: a dispatcher keeps the plan's schedule, a thread pool of keep-alive
HTTP/1.1 connections (one per thread) does the calls, and a reporter thread refreshes the live summary line.

Latency is measured per call from the moment it is sent; when the pool is saturated a call starts late, and the
report shows the worst start lag so an overloaded client is not mistaken for a slow server.
"""

from __future__ import annotations

import functools
import heapq
import http.client
import itertools
import json
import random
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, TextIO
from urllib.parse import quote, urlsplit

from tqdm import tqdm

from geulpi_tasks.data.generator import generate_events
from geulpi_tasks.data.labelled_sets import SetRole, load_rows, split_dev
from geulpi_tasks.tools.simulation.plan import Kind, PlannedRequest, TrafficConfig, plan_counts, plan_traffic
from geulpi_tasks.tools.simulation.stats import Outcome, Tally, build_report, error_kind

LABEL_KEYS = ("category", "priority", "lang", "_realistic")
FEEDBACK_DELAY_S = (1.0, 5.0)  # a user reads the answer before correcting it


class HttpError(Exception):
    """A setup call (versions, experiment) answered with an unexpected status."""

    def __init__(self, method: str, path: str, status: int, body: Any):
        super().__init__(f"{method} {path} answered {status}: {str(body)[:300]}")
        self.status, self.body = status, body


class JsonClient:
    """JSON over one keep-alive connection per thread. Not shared between threads (http.client is not safe)."""

    def __init__(self, base_url: str, *, api_key: str | None, timeout_s: float):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--url must look like http://host:port, not {base_url!r}")
        self.https = parts.scheme == "https"
        self.host, self.port = parts.hostname, parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/")
        self.timeout_s = timeout_s
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            conn = cls(self.host, self.port, timeout=self.timeout_s)
            self._local.conn = conn
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """(status, parsed JSON or None). Transport failures raise; the connection is dropped so the next call
        reconnects. A keep-alive connection the server closed while idle is retried once on a new one."""
        payload = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        for attempt in (1, 2):
            conn = self._connection()
            reused = getattr(conn, "sock", None) is not None
            try:
                conn.request(method, self.prefix + path, body=payload, headers=self.headers)
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self._drop()
                if attempt == 1 and reused:
                    continue
                raise
            except BaseException:
                self._drop()
                raise
            if response.getheader("Connection", "").lower() == "close":
                self._drop()
            try:
                return response.status, json.loads(data) if data else None
            except ValueError:
                return response.status, data[:200].decode(errors="replace")
        raise AssertionError("unreachable")

    def expect(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201, 202)) -> Any:
        status, data = self.call(method, path, body)
        if status not in ok:
            raise HttpError(method, path, status, data)
        return data


def request_event(event: dict[str, Any], user_id: str) -> dict[str, Any]:
    """The wire form of a generated event: labels removed, the user attached (A/B assignment is by userId)."""
    wire = {k: v for k, v in event.items() if k not in LABEL_KEYS}
    wire["userId"] = user_id
    return wire


def analysis_body(path: str, user_id: str, events: list[dict[str, Any]], today: datetime) -> dict[str, Any]:
    """An analysis request over the user's last week: the events keep their clock time and duration but are
    moved into the 7 days before ``today`` and sent without categories, so the model categorises them."""
    week_start = (today - timedelta(days=7)).replace(hour=0, minute=0, second=0, microsecond=0)
    moved = []
    for i, e in enumerate(events):
        start, end = datetime.fromisoformat(e["startTime"]), datetime.fromisoformat(e["endTime"])
        day = week_start + timedelta(days=i % 7)
        new_start = day.replace(hour=start.hour, minute=start.minute)
        wire = {k: v for k, v in e.items() if k not in LABEL_KEYS}
        wire.update(eventId=f"e{i}", startTime=new_start.isoformat(timespec="seconds"),
                    endTime=(new_start + (end - start)).isoformat(timespec="seconds"))
        moved.append(wire)
    body: dict[str, Any] = {"userId": user_id, "events": moved}
    if path == "/analyze-balance":
        body.update(startDate=week_start.date().isoformat(), endDate=(today - timedelta(days=1)).date().isoformat())
    elif path == "/optimize-schedule":
        body["targetDate"] = (week_start + timedelta(days=2)).date().isoformat()
    return body


@dataclass(frozen=True)
class RunOptions:
    base_url: str
    api_key: str | None = None
    concurrency: int = 16
    timeout_s: float = 15.0  # client socket timeout: above the API's sync timeout (10 s) so 504s are seen
    model_name: str = "event_classifier"
    ab_experiment: bool = False
    train_challenger: bool = False  # with ab_experiment: train a second version through the API when missing
    pool_size: int = 3000
    progress: bool = True
    # Share of classified events drawn from the hand-labelled realistic dev holdout instead of the generator, so the
    # report says how the system does on real calendars. Never the frozen test set: feedback would leak it.
    realistic_share: float = 0.3


class Simulation:
    """One run of a plan against ``options.base_url``. ``run()`` blocks and returns the report; ``stop()`` (from
    another thread) ends the run early, after the calls in flight."""

    def __init__(self, config: TrafficConfig, options: RunOptions, *, out: TextIO | None = None,
                 on_progress: Callable[[str], None] | None = None):
        config.check()
        self.config, self.options = config, options
        self.out = out or sys.stderr
        self.on_progress = on_progress
        self.client = JsonClient(options.base_url, api_key=options.api_key, timeout_s=options.timeout_s)
        self.pool = generate_events(options.pool_size, seed=config.seed + 1000)
        _fit, holdout = split_dev(load_rows(SetRole.DEV))
        self.realistic = [{k: v for k, v in r.items() if k not in ("lang", "set")} for r in holdout]
        self._realistic_draw = random.Random(config.seed + 3000)
        self._realistic_index = {i: self._realistic_draw.randrange(len(self.realistic))
                                 for i in range(options.pool_size)
                                 if self._realistic_draw.random() < options.realistic_share}
        self.plan = plan_traffic(config, len(self.pool))
        self.tally = Tally()
        self._stop = threading.Event()
        self._t0 = 0.0
        self._max_lag_s = 0.0
        self._feedback_stored = 0
        self._lock = threading.Lock()
        self._wake = threading.Condition()
        self._followups: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._delay_rng = random.Random(config.seed + 2000)
        self._inflight = 0
        self.experiment: dict[str, Any] | None = None
        self.messages: list[str] = []

    def _event(self, index: int) -> dict[str, Any]:
        """The event behind a plan index: a realistic holdout row for a seeded share of indices, else generated."""
        real = self._realistic_index.get(index)
        return self.pool[index] if real is None else {**self.realistic[real], "_realistic": True}

    def stop(self) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify()

    def log(self, message: str) -> None:
        self.messages.append(message)
        print(message, file=self.out, flush=True)

    # -------------------------------------------------------------------------------------------------- calls
    def _timed(self, kind: str, method: str, path: str, body: Any) -> tuple[Outcome, Any]:
        started = time.monotonic()
        status: int | None = None
        data: Any = None
        exc: BaseException | None = None
        try:
            status, data = self.client.call(method, path, body)
        except (OSError, http.client.HTTPException) as err:
            exc = err
        latency = (time.monotonic() - started) * 1000.0
        outcome = Outcome(kind, started - self._t0, latency, status, error_kind(status, exc))
        return outcome, data

    def _execute(self, item: PlannedRequest) -> None:
        self._max_lag_s = max(self._max_lag_s, time.monotonic() - self._t0 - item.at_s)
        events = [self._event(i) for i in item.events]
        if item.kind is Kind.CLASSIFY:
            self._classify(item, events[0])
        elif item.kind is Kind.BATCH:
            outcome, data = self._timed(item.kind.value, "POST", item.path,
                                        {"events": [request_event(e, item.user_id) for e in events]})
            if outcome.error is None and isinstance(data, dict):
                results = data.get("results") or []
                hits = [(r.get("eventType") == e["category"], bool(e.get("_realistic")))
                        for r, e in zip(results, events)]
                variant = results[0].get("variant") if results else None
                outcome = _with(outcome, labelled=len(results), correct=sum(h for h, _ in hits), variant=variant,
                                realistic_labelled=sum(real for _, real in hits),
                                realistic_correct=sum(h and real for h, real in hits))
            self.tally.add(outcome)
        else:
            body = analysis_body(item.path, item.user_id, events, datetime.now())
            outcome, _ = self._timed(item.kind.value, "POST", item.path, body)
            self.tally.add(outcome)

    def _classify(self, item: PlannedRequest, event: dict[str, Any]) -> None:
        wire = request_event(event, item.user_id)
        wire["requestId"] = f"sim-{uuid.uuid4().hex}"
        outcome, data = self._timed(item.kind.value, "POST", item.path, wire)
        if outcome.error is None and isinstance(data, dict):
            hit = int(data.get("eventType") == event["category"])
            real = int(bool(event.get("_realistic")))
            outcome = _with(outcome, labelled=1, correct=hit, variant=data.get("variant"), realistic_labelled=real,
                            realistic_correct=hit * real)
        self.tally.add(outcome)
        if item.feedback and outcome.error is None and isinstance(data, dict):
            # The user corrects (or confirms) the answer with the true label a few seconds later, naming it by
            # requestId; the worker remembers classified events right after answering, so not instantly.
            feedback = {"requestId": data.get("requestId") or wire["requestId"], "category": event["category"],
                        "priority": event["priority"]}
            self._follow_up(self._rng_delay(), lambda: self._send_feedback(feedback))

    def _send_feedback(self, feedback: dict[str, Any]) -> None:
        fb, _ = self._timed(Kind.FEEDBACK.value, "POST", "/feedback", feedback)
        self.tally.add(fb)
        if fb.error is None:
            with self._lock:
                self._feedback_stored += 1

    def _rng_delay(self) -> float:
        with self._lock:
            return self._delay_rng.uniform(*FEEDBACK_DELAY_S)

    def _follow_up(self, delay_s: float, call: Callable[[], None]) -> None:
        with self._wake:
            heapq.heappush(self._followups, (time.monotonic() + delay_s, next(self._seq), call))
            self._wake.notify()

    # ---------------------------------------------------------------------------------------- A/B experiment
    def _versions(self) -> list[dict[str, Any]]:
        data = self.client.expect("GET", f"/models/{quote(self.options.model_name)}/versions")
        return list(data.get("versions") or [])

    def _train_challenger(self) -> None:
        self.log("A/B: one version only; training a challenger through POST /models/train ...")
        job = self.client.expect("POST", "/models/train", {
            "model_type": self.options.model_name, "optimize": False, "auto_promote": False, "n_samples": 3000,
            "description": "A/B challenger trained by the traffic simulator."})
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            state = self.client.expect("GET", f"/tasks/{job['jobId']}")
            if state.get("ready"):
                if state.get("state") != "SUCCESS":
                    raise HttpError("GET", f"/tasks/{job['jobId']}", 200, state)
                self.log(f"A/B: challenger version {state['result']['version']} registered")
                return
            time.sleep(1.0)
        raise TimeoutError("the challenger's training job did not finish in 600 s")

    def start_experiment(self) -> dict[str, Any] | None:
        """Create a 50/50 experiment between the production version and the newest other non-archived one.
        Returns None (with a message) when the model has a single version or already runs an experiment."""
        versions = self._versions()
        production = next((v for v in versions if v.get("stage") == "Production"), None)
        others = [v for v in versions if v is not production and v.get("stage") != "Archived"]
        if production is not None and not others and self.options.train_challenger:
            self._train_challenger()
            versions = self._versions()
            others = [v for v in versions if v.get("stage") not in ("Production", "Archived")]
        if production is None or not others:
            self.log("A/B experiment skipped: it needs a production version and one other registered version "
                     "(train one with --train-challenger, POST /models/train or `geulpi models train`).")
            return None
        challenger = max(others, key=lambda v: int(v["version"]))
        body = {"name": f"simulator {datetime.now():%Y-%m-%d %H:%M:%S}", "model_type": self.options.model_name,
                "description": "Started by the traffic simulator.", "duration_hours": 24,
                "variants": [{"name": "control", "version": str(production["version"]), "traffic_percentage": 50},
                             {"name": "challenger", "version": str(challenger["version"]),
                              "traffic_percentage": 50}]}
        status, data = self.client.call("POST", "/experiments/create", body)
        if status == 409:
            self.log(f"A/B experiment skipped: {data}")
            return None
        if status != 201:
            raise HttpError("POST", "/experiments/create", status, data)
        self.log(f"A/B: experiment {data['experiment_id']} control v{production['version']} vs "
                 f"challenger v{challenger['version']}")
        return {"id": data["experiment_id"], "control": str(production["version"]),
                "challenger": str(challenger["version"])}

    def stop_experiment(self, experiment: dict[str, Any]) -> dict[str, Any]:
        final = self.client.expect("POST", f"/experiments/{quote(experiment['id'])}/stop")
        variants = final.get("variants") or {}
        exposures = {name: row.get("exposures") for name, row in variants.items()}
        summary = (f"{experiment['id']} stopped; exposures {exposures}; winner {final.get('winner')!r}; "
                   f"{final.get('recommendation', '')}")
        return {**experiment, "final": final, "summary": summary}

    # ------------------------------------------------------------------------------------------------- run
    def _report_loop(self, bar: Any) -> None:
        last = 0.0
        while not self._stop.wait(0.5):
            elapsed = time.monotonic() - self._t0
            line = self.tally.summary_line(elapsed)
            if bar is not None:
                bar.update(min(elapsed, self.config.duration_s) - last)
                last = min(elapsed, self.config.duration_s)
                bar.set_postfix_str(line, refresh=True)
            if self.on_progress is not None:
                self.on_progress(line)

    def _submit(self, pool: ThreadPoolExecutor, call: Callable[[], None]) -> None:
        with self._wake:
            self._inflight += 1

        def wrapped() -> None:
            try:
                call()
            finally:
                with self._wake:
                    self._inflight -= 1
                    self._wake.notify()

        pool.submit(wrapped)

    def _dispatch(self, pool: ThreadPoolExecutor) -> None:
        """Send planned calls on schedule and follow-ups (feedback) when due, until the plan is done and nothing is
        in flight or waiting; ``stop()`` skips what is not sent yet."""
        plan = iter(self.plan)
        upcoming = next(plan, None)
        while True:
            with self._wake:
                now = time.monotonic()
                if self._stop.is_set():
                    return
                if self._followups and self._followups[0][0] <= now:
                    _, _, call = heapq.heappop(self._followups)
                elif upcoming is not None and self._t0 + upcoming.at_s <= now:
                    item, upcoming = upcoming, next(plan, None)
                    call = functools.partial(self._execute, item)
                elif upcoming is None and not self._followups and self._inflight == 0:
                    return
                else:
                    dues = [self._followups[0][0]] if self._followups else []
                    if upcoming is not None:
                        dues.append(self._t0 + upcoming.at_s)
                    self._wake.wait(min(dues) - now if dues else 1.0)
                    continue
            self._submit(pool, call)

    def run(self) -> dict[str, Any]:
        if self.options.ab_experiment:
            self.experiment = self.start_experiment()
        bar = _progress_bar(self.config.duration_s, self.out) if self.options.progress else None
        self._t0 = time.monotonic()
        reporter = threading.Thread(target=self._report_loop, args=(bar,), daemon=True)
        reporter.start()
        try:
            with ThreadPoolExecutor(self.options.concurrency, thread_name_prefix="sim") as pool:
                try:
                    self._dispatch(pool)
                except KeyboardInterrupt:  # Ctrl-C: report what was sent and stop the experiment anyway
                    self._stop.set()
                    self.log("interrupted: waiting for the calls in flight")
        finally:
            elapsed = time.monotonic() - self._t0
            self._stop.set()
            reporter.join()
            if bar is not None:
                bar.close()
        extra: dict[str, Any] = {"planned": plan_counts(self.plan), "feedbackStored": self._feedback_stored,
                                 "maxStartLagMs": round(self._max_lag_s * 1000.0, 1), "messages": self.messages}
        if self.experiment is not None:
            extra["experiment"] = self.stop_experiment(self.experiment)
        config = {**asdict(self.config), "url": self.options.base_url, "concurrency": self.options.concurrency,
                  "timeoutS": self.options.timeout_s, "abExperiment": self.options.ab_experiment}
        return build_report(self.tally.outcomes(), elapsed_s=elapsed, config=config, extra=extra)


def _with(outcome: Outcome, **changes: Any) -> Outcome:
    return Outcome(**{**asdict(outcome), **changes})


def _progress_bar(total: float, out: TextIO) -> Any:
    return tqdm(total=total, unit="s", file=out, dynamic_ncols=True,
                bar_format="{percentage:3.0f}%|{bar:20}| {n:.0f}/{total:.0f} s{postfix}")
