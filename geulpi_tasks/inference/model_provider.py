"""Keeps the production classifier in memory in each inference process and swaps it when the alias moves.

A daemon thread polls the registry's ``production`` alias; a new version is downloaded and loaded beside the old
one, then swapped in with a single reference assignment, so requests in flight are never dropped.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from geulpi_tasks.errors import GeulpiError, ModelNotReady
from geulpi_tasks.models.runtime import ServedClassifier
from geulpi_tasks.process_heap import settle_heap
from geulpi_tasks.registry.store import download_bundle, find_version_by_alias

log = logging.getLogger(__name__)

# Versions besides production kept in memory: enough for an experiment's variants.
MAX_EXTRA_VERSIONS = 4


class ModelProvider:
    def __init__(self, *, tracking_uri: str, model_name: str, cache_dir: Path, poll_interval_s: float):
        self.tracking_uri = tracking_uri
        self.model_name = model_name
        self.cache_dir = cache_dir
        self.poll_interval_s = poll_interval_s
        self._model: ServedClassifier | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._versions: dict[str, ServedClassifier] = {}  # other versions kept loaded (A/B experiments)

    def current(self) -> ServedClassifier:
        """The model being served; raises ModelNotReady until a production version has been loaded."""
        model = self._model
        if model is None:
            self.refresh()
            model = self._model
        if model is None:
            raise ModelNotReady(f"No production version of '{self.model_name}' is loaded yet; "
                                "promote a version or wait for the first model to finish training.")
        return model

    def get_version(self, version: str) -> ServedClassifier:
        """A specific version, kept loaded beside production (A/B experiments serve two at once).

        The last few versions loaded stay in memory; raises NotFound/Unavailable from the registry.
        """
        model = self._model
        if model is not None and model.version == version:
            return model
        cached = self._versions.get(version)
        if cached is not None:
            return cached
        with self._lock:
            if version not in self._versions:
                bundle = download_bundle(self.tracking_uri, self.model_name, version, self.cache_dir)
                if len(self._versions) >= MAX_EXTRA_VERSIONS:
                    self._versions.pop(next(iter(self._versions)))
                self._versions[version] = ServedClassifier.load(bundle, name=self.model_name, version=version)
                log.info("loaded %s version %s beside production", self.model_name, version)
                settle_heap()  # the model lives as long as it is served: out of the collector's scans
            return self._versions[version]

    def refresh(self) -> bool:
        """Load the version behind the production alias if it is not the one served. True when it swapped."""
        with self._lock:
            ref = find_version_by_alias(self.tracking_uri, self.model_name)
            if ref is None or (self._model is not None and self._model.version == ref.version):
                return False
            bundle = download_bundle(self.tracking_uri, self.model_name, ref.version, self.cache_dir)
            self._model = ServedClassifier.load(bundle, name=self.model_name, version=ref.version)
            log.info("serving %s version %s", self.model_name, ref.version)
        settle_heap()  # the model lives as long as it is served: out of the collector's scans
        return True

    def start_polling(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._poll, name="model-alias-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_interval_s):
            try:
                self.refresh()
            except GeulpiError as err:  # registry briefly unreachable: keep serving the loaded version
                log.warning("model refresh failed: %s", err.message)
