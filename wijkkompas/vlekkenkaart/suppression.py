"""Complementary suppression of small counts in the shared vlekkenkaart outputs.

The counts of one category form a tree of sums: the gemeente is the sum of its wijken (plus
locations that lie in no buurt), a wijk the sum of its buurten. Published, they let a reader
solve for a hidden count, so hiding the small ones alone is not enough. The rule:

1. Every count from 1 to ``minimum - 1`` is suppressed, at every level, the gemeente too
   (primary suppression). A zero is published: it says nothing about a person.
2. A reader knows the published counts, the sums, and that a suppressed count is at least 1
   (zeros are never suppressed). For each suppressed count the range of values it can take
   under that knowledge is computed exactly (interval propagation over the tree). Where that
   range is a single value, the count can be read back, and one more count is suppressed:
   the smallest published non-zero count among its siblings, its parent and its children
   that widens the range, else the smallest of them (secondary suppression). This repeats
   until no suppressed count is determined.
3. All suppressed counts carry the same label, so that a reader cannot tell a small count
   (1-4) from one hidden to protect it (5 or more); distinct labels would give an upper
   bound of 4 to one and a lower bound of 5 to the other, and with them often the exact
   counts back.

See docs/vlekkenkaart.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

Interval = tuple[float, float]
INF = math.inf


def _add(a: Interval, b: Interval) -> Interval:
    return a[0] + b[0], a[1] + b[1]


def _sub(a: Interval, b: Interval) -> Interval:
    return a[0] - b[1], a[1] - b[0]


def _meet(a: Interval, b: Interval) -> Interval:
    return max(a[0], b[0]), min(a[1], b[1])


class CountTree:
    """The counts of one category in a tree of areas, each parent the sum of its children
    plus a known remainder (locations of the parent that no child holds)."""

    def __init__(self, counts: Mapping[str, int], parents: Mapping[str, str | None]) -> None:
        self.counts = {code: int(n) for code, n in counts.items()}
        self.parents = dict(parents)
        self.children: dict[str, list[str]] = {code: [] for code in self.counts}
        for code in sorted(self.counts):
            parent = self.parents.get(code)
            if parent is not None:
                self.children[parent].append(code)
        roots = [c for c in self.counts if self.parents.get(c) is None]
        if len(roots) != 1:
            raise ValueError(f"one root expected, got {roots}")
        self.root = roots[0]
        # Locations of a parent that none of its children holds (outside every buurt).
        self.rest = {code: self.counts[code] - sum(self.counts[c] for c in kids)
                     for code, kids in self.children.items() if kids}
        for code, rest in self.rest.items():
            if rest < 0:
                raise ValueError(f"{code}: children add up to more than the parent")

    def ranges(self, suppressed: set[str]) -> dict[str, Interval]:
        """What a reader can know of each count: its smallest and largest possible value."""

        def own(code: str) -> Interval:
            return (1.0, INF) if code in suppressed else (self.counts[code],) * 2

        below: dict[str, Interval] = {}

        def up(code: str) -> Interval:
            kids = self.children[code]
            if not kids:
                below[code] = own(code)
                return below[code]
            total: Interval = (self.rest[code],) * 2
            for kid in kids:
                total = _add(total, up(kid))
            below[code] = _meet(own(code), total)
            return below[code]

        up(self.root)
        full = {self.root: below[self.root]}
        stack = [self.root]
        while stack:
            code = stack.pop()
            kids = self.children[code]
            if not kids:
                continue
            room = _sub(full[code], (self.rest[code],) * 2)
            for kid in kids:
                # Interval sums cannot be undone by subtraction: add the others up afresh.
                others: Interval = (0.0, 0.0)
                for sibling in kids:
                    if sibling != kid:
                        others = _add(others, below[sibling])
                full[kid] = _meet(below[kid], _sub(room, others))
                stack.append(kid)
        return full

    def determined(self, suppressed: set[str]) -> list[str]:
        """The suppressed counts a reader can work out exactly."""
        ranges = self.ranges(suppressed)
        return sorted(c for c in suppressed if ranges[c][0] == ranges[c][1])

    def neighbours(self, code: str) -> list[str]:
        """The counts in a sum with ``code``: its siblings, its parent and its children."""
        parent = self.parents.get(code)
        siblings = [c for c in self.children[parent] if c != code] if parent else []
        return siblings + ([parent] if parent else []) + self.children[code]

    def suppress(self, minimum: int) -> set[str]:
        """The counts to suppress: primary (1 to ``minimum - 1``) and secondary, so that no
        suppressed count can be worked out from the published ones."""
        suppressed = {c for c, n in self.counts.items() if 0 < n < minimum}
        while exposed := self.determined(suppressed):
            # A count can be fixed by a sum above it whose own cells are all hidden or zero:
            # then the first exposed count with a published neighbour is widened instead.
            for code in exposed:
                candidates = sorted((self.counts[c], c) for c in self.neighbours(code)
                                    if c not in suppressed and self.counts[c] > 0)
                if candidates:
                    break
            else:  # cannot happen: a determined hidden count has a published non-zero sum
                raise ValueError(f"{exposed}: no count left to suppress")
            chosen = next((c for _, c in candidates
                           if code not in self.determined(suppressed | {c})),
                          candidates[0][1])
            suppressed.add(chosen)
        return suppressed
