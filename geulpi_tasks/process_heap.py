"""Long-lived objects out of the cyclic garbage collector's way.

A served model, the imported libraries and the app are hundreds of thousands of objects that live as long as the
process. Every full collection scans all of them: in an inference worker that was ~10 ms of each 1000-event batch's
~43 ms (issue 13), triggered by the batch's own short-lived dicts and lists. ``settle_heap`` collects once, then
freezes what is left (``gc.freeze``) so later collections scan only objects made afterwards.

Called when a process has loaded what it keeps: a model (``ModelProvider``), the API app. A later call unfreezes
first, so garbage among the frozen objects (a replaced model's cycles) is still collected, once, then.
"""

from __future__ import annotations

import gc


def settle_heap() -> None:
    gc.unfreeze()
    gc.collect()
    gc.freeze()
