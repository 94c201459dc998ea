"""Reading order of boxes on a page or in a cell: vertical columns (or lines) right to left, top to bottom."""

from __future__ import annotations


def reading_order(boxes: list[tuple[int, int, int, int]]) -> tuple[list[int], list[int]]:
    """Column and reading-order index of arbitrary boxes (x, y, w, h): vertical columns right to left.

    Boxes whose horizontal extents overlap by more than half of the narrower one
    share a column; columns are ordered by their right edge, right to left, and
    boxes in a column top to bottom.  Used after a user edit.
    """
    n = len(boxes)
    if n == 0:
        return [], []
    idx = sorted(range(n), key=lambda i: -(boxes[i][0] + boxes[i][2] / 2))
    columns: list[list[int]] = []
    spans: list[list[float]] = []
    for i in idx:
        x, _, w, _ = boxes[i]
        for c, (a, b) in enumerate(spans):
            if min(b, x + w) - max(a, x) > 0.5 * min(w, b - a):
                columns[c].append(i)
                spans[c] = [min(a, x), max(b, x + w)]
                break
        else:
            columns.append([i])
            spans.append([x, x + w])
    col = [0] * n
    order = [0] * n
    k = 0
    for c in sorted(range(len(columns)), key=lambda c: -spans[c][1]):
        for i in sorted(columns[c], key=lambda i: boxes[i][1]):
            col[i] = c
            order[i] = k
            k += 1
    ranks = {c: r for r, c in enumerate(sorted(range(len(columns)), key=lambda c: -spans[c][1]))}
    return [ranks[c] for c in col], order
