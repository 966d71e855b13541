"""The counters of a gateway entry, shown on the gateway's device and in diagnostics."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from .transport import Reject


@dataclass(slots=True)
class GatewayStats:
    """Counters shown on the gateway device and in diagnostics."""

    messages: int = 0  # everything the transport delivered, good or bad
    uplinks: int = 0  # parsed uplinks handed on (to this or another entry)
    rejected: Counter[str] = field(default_factory=Counter)
    last_message: datetime | None = None

    @property
    def malformed(self) -> int:
        """Messages that could not be parsed (one kind of rejection)."""
        return self.rejected[Reject.MALFORMED]

    @property
    def rejected_total(self) -> int:
        """All rejected messages, whatever the reason."""
        return sum(self.rejected.values())
