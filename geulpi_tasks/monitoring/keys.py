"""Every Redis key the monitoring area writes, built in one place (all under ``<prefix>:monitoring:``)."""

from __future__ import annotations


class MonitoringKeys:
    def __init__(self, key_prefix: str):
        self.base = f"{key_prefix}:monitoring"

    def predictions(self, model_name: str) -> str:
        """Capped stream of recent predictions (features summary, class, confidence, latency, version, status)."""
        return f"{self.base}:predictions:{model_name}"

    def prediction_count(self, model_name: str) -> str:
        """How many predictions the stream holds (an entry may hold a whole batch): what its cap counts."""
        return f"{self.base}:predictions:{model_name}:count"

    def prediction_sizes(self, model_name: str) -> str:
        """List of '<entry id> <predictions>' of the stream's entries, oldest first: what trimming reads."""
        return f"{self.base}:predictions:{model_name}:sizes"

    def outcomes(self, model_name: str) -> str:
        """Capped stream of feedback outcomes (correct or not, per version) behind the online accuracy."""
        return f"{self.base}:outcomes:{model_name}"

    def reference(self, model_name: str, version: str) -> str:
        """Cached reference snapshot of a version's training features (versions are immutable)."""
        return f"{self.base}:reference:{model_name}:{version}"

    @property
    def drift(self) -> str:
        """Hash model name -> latest drift report (JSON)."""
        return f"{self.base}:drift"

    @property
    def rules(self) -> str:
        """Hash rule name -> custom alert rule (JSON)."""
        return f"{self.base}:alerts:rules"

    @property
    def states(self) -> str:
        """Hash '<model>/<rule>' -> evaluation state (JSON)."""
        return f"{self.base}:alerts:states"

    @property
    def history(self) -> str:
        """Capped list of alert state transitions, newest first."""
        return f"{self.base}:alerts:history"
