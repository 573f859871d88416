"""settle_heap freezes what a process keeps, and still collects garbage among what it froze before."""

from __future__ import annotations

import gc
import weakref

from geulpi_tasks.process_heap import settle_heap


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector can free it


def test_settle_freezes_what_lives_and_later_collects_a_frozen_cycle() -> None:
    try:
        node = _Node()
        alive = weakref.ref(node)
        settle_heap()
        assert gc.get_freeze_count() > 0
        del node
        gc.collect()
        assert alive() is not None  # frozen: a full collection no longer looks at it
        settle_heap()
        assert alive() is None  # the next settle unfreezes first, so the dropped cycle is collected
    finally:
        gc.unfreeze()
