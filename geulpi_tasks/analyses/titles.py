"""Which event titles name the same recurring thing ("Team sync #12", "team-sync", "Team synch").

Titles are normalised (Unicode NFKC, case-folded, digits and punctuation dropped) and then normalised titles
whose difflib ratio is at least ``TITLE_SIMILARITY`` are joined. Only titles with the same first character and
similar length are compared, which keeps grouping near-linear; typos in the first letter are rare.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from difflib import SequenceMatcher
from typing import Sequence

from geulpi_tasks.analyses import defaults

_DIGITS = re.compile(r"\d+")
_PUNCT = re.compile(r"[^\w\s]|_")
_SPACES = re.compile(r"\s+")


def normalize_title(title: str) -> str:
    text = unicodedata.normalize("NFKC", title).casefold()
    text = _SPACES.sub(" ", _PUNCT.sub(" ", _DIGITS.sub(" ", text))).strip()
    return text or title.casefold().strip()


def group_titles(titles: Sequence[str]) -> list[int]:
    """A group number per title (same number = same recurring thing); numbering is deterministic."""
    keys = [normalize_title(t) for t in titles]
    unique = sorted(set(keys))
    parent = {key: key for key in unique}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    if len(unique) <= defaults.MAX_FUZZY_TITLES:
        buckets: dict[str, list[str]] = defaultdict(list)
        for key in unique:
            buckets[key[:1]].append(key)
        for bucket in buckets.values():
            for i, a in enumerate(bucket):
                for b in bucket[i + 1:]:
                    if min(len(a), len(b)) < 0.7 * max(len(a), len(b)):
                        continue
                    matcher = SequenceMatcher(None, a, b)
                    if (matcher.real_quick_ratio() >= defaults.TITLE_SIMILARITY
                            and matcher.quick_ratio() >= defaults.TITLE_SIMILARITY
                            and matcher.ratio() >= defaults.TITLE_SIMILARITY):
                        ra, rb = root(a), root(b)
                        if ra != rb:
                            parent[max(ra, rb)] = min(ra, rb)
    numbers = {key: n for n, key in enumerate(sorted({root(k) for k in unique}))}
    return [numbers[root(k)] for k in keys]
