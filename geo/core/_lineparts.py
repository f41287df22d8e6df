"""Assemble a demarcation line from its parts into one directed line.

A line may come as several features, or as a MultiLineString, each part drawn either
way. The rules, in order:

1. Parts that meet end to end (within ``JOIN_TOLERANCE_DEG``, also across ±180°) are
   joined into chains, whatever the direction each part was drawn in.
2. The chain holding the first part runs the way the first part does: that is the
   line's direction, and ``left_party``/``right_party`` are relative to it.
3. A line with gaps keeps one direction across them: the next piece is the chain with
   an end nearest to the end (or the start) of the pieces placed so far, and it runs
   on from there, so that its start is its end nearest the previous piece's end.
4. Three or more parts meeting at one point, or a part ending on another's interior,
   is a branch; a piece whose two ends are about as near to the gap it continues is
   ambiguous. Both fail with one line naming the file and the part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from geo._errors import ManifestError
from geo.core._antimeridian import shift_to, unwrap, wrap
from geo.core._metric import WGS84

FloatArray = NDArray[np.float64]

JOIN_TOLERANCE_DEG = 1e-7
"""Part ends closer than this (about 1 cm) meet."""
AMBIGUOUS_RATIO = 1.1
"""Across a gap, the far end of the next piece must be this much farther than its near end."""


@dataclass(frozen=True)
class Part:
    """One LineString of a line's file: its label for messages and its coordinates."""

    label: str
    coords: FloatArray


@dataclass(frozen=True)
class Assembled:
    """A line as directed pieces with continuous longitudes, and the parts that were reversed."""

    pieces: list[FloatArray]
    reversed: list[str]


def parts_of(geometries: list[shapely.Geometry]) -> list[Part]:
    """The LineString parts of line features, labelled ``feature N`` or ``feature N part M``."""
    out = []
    for i, geom in enumerate(geometries, start=1):
        parts = shapely.get_parts(geom)
        for j, part in enumerate(parts, start=1):
            coords = shapely.get_coordinates(part)
            keep = np.ones(len(coords), dtype=bool)
            keep[1:] = np.any(np.diff(coords, axis=0) != 0, axis=1)
            coords = unwrap(coords[keep])
            if len(coords) >= 2:
                label = f"feature {i}" if len(parts) == 1 else f"feature {i} part {j}"
                out.append(Part(label, shift_to(coords, 0.0)))
    return out


class _Nodes:
    """Clusters part ends that meet (union-find over a grid of the tolerance)."""

    def __init__(self, ends: FloatArray) -> None:
        self.parent = list(range(len(ends)))
        tol = JOIN_TOLERANCE_DEG
        turn = round(360.0 / tol)
        grid: dict[tuple[int, int], list[int]] = {}
        lon = wrap(ends[:, 0])
        for j, (x, y) in enumerate(zip(lon, ends[:, 1], strict=True)):
            cx, cy = int(np.floor(x / tol)), int(np.floor(y / tol))
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    for k in grid.get(((cx + dx) % turn, cy + dy), ()):
                        if abs(wrap(x - lon[k])) <= tol and abs(y - ends[k, 1]) <= tol:
                            self.parent[self.find(j)] = self.find(k)
            grid.setdefault((cx % turn, cy), []).append(j)

    def find(self, j: int) -> int:
        while self.parent[j] != j:
            self.parent[j] = self.parent[self.parent[j]]
            j = self.parent[j]
        return j


def _fail(where: str, problem: str) -> ManifestError:
    return ManifestError(f"{where}: {problem}")


def _at(point: FloatArray) -> str:
    return f"({wrap(point[0]):.6f}, {point[1]:.6f})"


def _check_branches(parts: list[Part], node: list[int], where: str) -> None:
    """Refuse three parts meeting at a point, and a part ending on another's interior."""
    members: dict[int, list[int]] = {}
    for end, n in enumerate(node):
        members.setdefault(n, []).append(end)
    for ends in members.values():
        if len(ends) > 2:
            names = [parts[e // 2].label for e in ends]
            point = parts[ends[0] // 2].coords[-1 if ends[0] % 2 else 0]
            msg = (
                f"{names[-1]} meets {', '.join(names[:-1])} at {_at(point)}: a line cannot branch "
                "(give each branch as a line of its own)"
            )
            raise _fail(where, msg)
    loose = [ends[0] for ends in members.values() if len(ends) == 1]
    if len(parts) < 2 or not loose:
        return
    tree = shapely.STRtree([shapely.LineString(p.coords) for p in parts])
    xy = np.array([parts[e // 2].coords[-1 if e % 2 else 0] for e in loose])
    for turn in (-360.0, 0.0, 360.0):
        pts = shapely.points(xy[:, 0] + turn, xy[:, 1])
        hit, other = tree.query(pts, predicate="dwithin", distance=JOIN_TOLERANCE_DEG)
        for h, o in zip(hit, other, strict=True):
            end = loose[h]
            if o != end // 2:
                msg = (
                    f"{parts[end // 2].label} ends on {parts[o].label} away from its ends at "
                    f"{_at(xy[h])}: a line cannot branch (give each branch as a line of its own)"
                )
                raise _fail(where, msg)


def _chains(parts: list[Part], node: list[int]) -> list[list[tuple[int, bool]]]:
    """Chains of (part, reversed) joined end to end; the first one holds part 0, as drawn."""
    at: dict[int, list[int]] = {}
    for end, n in enumerate(node):
        at.setdefault(n, []).append(end)

    def other(end: int) -> int | None:
        ends = at[node[end]]
        return next((e for e in ends if e != end), None) if len(ends) == 2 else None

    used = [False] * len(parts)
    chains = []
    for seed in range(len(parts)):
        if used[seed]:
            continue
        used[seed] = True
        chain = [(seed, False)]
        tail = 2 * seed + 1  # the free end: (part, 0 start / 1 end)
        while (nxt := other(tail)) is not None and not used[nxt // 2]:
            used[nxt // 2] = True
            chain.append((nxt // 2, nxt % 2 == 1))
            tail = nxt ^ 1
        head = 2 * seed
        while (prv := other(head)) is not None and not used[prv // 2]:
            used[prv // 2] = True
            chain.insert(0, (prv // 2, prv % 2 == 0))
            head = prv ^ 1
        chains.append(chain)
    return chains


def _coords(parts: list[Part], chain: list[tuple[int, bool]]) -> FloatArray:
    out: list[FloatArray] = []
    for index, flip in chain:
        c = parts[index].coords[::-1] if flip else parts[index].coords
        if out:
            c = shift_to(c, out[-1][-1, 0])[1:]
        out.append(c)
    return np.vstack(out)


def _distances(anchor: FloatArray, points: FloatArray) -> FloatArray:
    """Ellipsoidal distances in meters from one lon/lat point to many."""
    n = len(points)
    _, _, d = WGS84.inv(np.full(n, anchor[0]), np.full(n, anchor[1]), points[:, 0], points[:, 1])
    return np.asarray(d, dtype=np.float64)


def _order(
    parts: list[Part], chains: list[list[tuple[int, bool]]], where: str
) -> tuple[list[FloatArray], list[list[tuple[int, bool]]]]:
    """Place the chains across gaps, each running on from the pieces placed before it."""
    coords = [_coords(parts, c) for c in chains]
    pieces, placed = [coords[0]], [chains[0]]
    left = list(range(1, len(chains)))
    while left:
        starts = np.array([coords[c][0] for c in left])
        ends = np.array([coords[c][-1] for c in left])
        tail, head = pieces[-1][-1], pieces[0][0]
        # Candidates, in this order: run on from the tail as drawn or flipped, lead into
        # the head as drawn or flipped. Each with the distance of its near and far end.
        near = np.stack(
            [
                _distances(tail, starts),
                _distances(tail, ends),
                _distances(head, ends),
                _distances(head, starts),
            ]
        )
        far = np.stack([near[1], near[0], near[3], near[2]])
        how, k = np.unravel_index(int(np.argmin(near)), near.shape)
        c, d, d_far = left[int(k)], float(near[how, k]), float(far[how, k])
        at_tail, flip = how < 2, how in (1, 3)
        if d_far < AMBIGUOUS_RATIO * d:
            label = parts[min(i for i, _ in chains[c])].label
            neighbour = placed[-1][-1] if at_tail else placed[0][0]
            msg = (
                f"cannot tell which way {label} runs: its ends are {d / 1000:.3f} km and "
                f"{d_far / 1000:.3f} km from the {'end' if at_tail else 'start'} of "
                f"{parts[neighbour[0]].label} (join the parts, or give it as a line of its own)"
            )
            raise _fail(where, msg)
        piece = coords[c][::-1] if flip else coords[c]
        chain = [(i, r != flip) for i, r in (chains[c][::-1] if flip else chains[c])]
        if at_tail:
            pieces.append(shift_to(piece, tail[0]))
            placed.append(chain)
        else:
            pieces.insert(0, shift_to(piece, head[0]))
            placed.insert(0, chain)
        left.remove(c)
    return pieces, placed


def assemble(parts: list[Part], *, where: str) -> Assembled:
    """
    Join the parts of a line into directed pieces (see the module's rules).

    Parameters
    ----------
    parts
        From :func:`parts_of`, in the file's order.
    where
        ``file: key`` for messages.

    Returns
    -------
    Assembled
        One piece per stretch without a gap, in order along the line, with continuous
        longitudes (they may run past ±180); the labels of the parts that were reversed.

    Raises
    ------
    ManifestError
        One line naming the file and the part, for a branch or an ambiguous piece.
    """
    if not parts:
        raise _fail(where, "the line has no part with two distinct points")
    ends = np.array([p.coords[k] for p in parts for k in (0, -1)])
    nodes = _Nodes(ends)
    node = [nodes.find(j) for j in range(len(ends))]
    _check_branches(parts, node, where)
    pieces, placed = _order(parts, _chains(parts, node), where)
    flipped = sorted({i for chain in placed for i, r in chain if r})
    return Assembled(pieces, [parts[i].label for i in flipped])


def line_pieces(geometry: shapely.Geometry, *, where: str) -> list[FloatArray]:
    """The directed pieces of a line geometry (LineString or MultiLineString), assembled."""
    return assemble(parts_of([geometry]), where=where).pieces
