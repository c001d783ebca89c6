"""Events' kinds and data maps stored column-wise inside an EVENTS block (format 3.0).

Row-wise, every map repeats its keys and packs each float in 9 bytes, and
zstd sees one kind's values interleaved with every other kind's. Here the
maps of a block are grouped by shape (their event's kind and their keys, in
order): a table of shapes, each event's shape index (which gives its kind
too), and one column per (shape, key) holding that key's values in event
order, stored in whichever of these ways packs smallest:

- ints as steps from the value before (timestamps, counters);
- floats that are short decimals (53.2, 0.125) as ints scaled by a power of
  ten, any float that would not come back bit for bit (1/3, -0.0, NaN, inf,
  1e300) kept as a float in its place;
- text or floats that repeat (statuses, task ids, fractions) as indices into
  a table of their distinct values;
- maps keyed by text (a patch, a state) as shapes and columns of their own,
  one level down.

Data that is not a map keyed by text is kept whole, as a 2.0 block keeps
every map: the data gate marks it when it is read back, as it always did.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import accumulate, repeat
from math import copysign
from operator import sub
from typing import Any

import msgpack

PLAIN, STEPS, DECIMALS, TABLE, NESTED = range(5)
"""How a column is stored, [how, arg, values]: values as they are; ints as steps from the one before
(the first whole); floats as ints scaled by 10 ** arg (a float in their midst is itself); text or
floats as indices into the table arg; maps as [shape keys, shape indices, columns] of their own."""
MAX_BUILT_WIDTH = 32
"""Keys a map may have for its shape's maps to be built by a function made for its width
(_map_builder); wider maps are built with dict(zip())."""
MAX_PLACES = 9
"""Decimal places a scaled float may have: past that the scaled int is no smaller than the float."""
INT_LO, INT_HI = -(1 << 63), 1 << 64
"""What msgpack packs: a column summed from steps must stay within it, as the values it held did."""

Packed = list[Any]


def pack_datas(kinds: Iterable[str], datas: Iterable[Any]) -> Packed:
    """[shape kinds, shape keys, each event's shape index, columns] of a block's events."""
    shapes, of, columns = _pack_maps(kinds, datas, nest=True)
    return [[kind for kind, _ in shapes], [keys for _, keys in shapes], of, columns]


def _pack_maps(tags: Iterable[Any], maps: Iterable[Any], nest: bool) -> tuple[list, list, list]:
    """Shapes ([tag, keys, or None for data kept whole]), each map's shape index, and the columns
    of each shape in turn, a column per key. Maps are grouped by shape first, so a shape's keys
    are checked once and its columns are one C-level transposition of its maps' values."""
    groups: dict[tuple[Any, Any], tuple[int, list[Any]]] = {}
    of: list[int] = []
    for tag, data in zip(tags, maps):
        shape = (tag, tuple(data) if type(data) is dict else None)
        group = groups.get(shape)
        if group is None:
            group = groups[shape] = (len(groups), [])
        of.append(group[0])
        group[1].append(data)
    table: list[list[Any]] = []
    columns: list[Packed] = []
    for (tag, keys), (_, rows) in groups.items():
        keyed = keys is not None and set(map(type, keys)) <= {str}
        table.append([tag, list(keys) if keyed else None])
        values = list(map(list, zip(*map(dict.values, rows)))) if keyed else [rows]
        columns += [_column(v, nest) for v in values]
    return table, of, columns


def _column(values: list[Any], nest: bool) -> Packed:
    """[how, arg, values] for one key's values, in whichever way packs them smallest."""
    types = set(map(type, values))
    if types == {int} and len(values) > 1:
        steps = [values[0], *map(sub, values[1:], values)]
        if INT_LO <= min(steps) and max(steps) < INT_HI and _smaller(steps, values):
            return [STEPS, 0, steps]
    elif types == {float}:
        tabled = _tabled(values, list(zip(values, map(copysign, repeat(1.0), values))))
        if tabled is not None:
            return tabled
        places, scaled = _decimals(values)
        if places is not None:
            return [DECIMALS, places, scaled]
    elif types == {str}:
        tabled = _tabled(values, values)
        if tabled is not None:
            return tabled
    elif types == {dict} and nest:
        shapes, of, columns = _pack_maps(repeat(None), values, nest=False)
        keys = [keys for _, keys in shapes]
        if None not in keys:  # maps keyed by text only: the gate may pass them unwalked
            return [NESTED, 0, [keys, of, columns]]
    return [PLAIN, 0, values]


def _tabled(values: list[Any], keys: list[Any]) -> Packed | None:
    """[TABLE, distinct values, indices] if at most half the values are distinct. `keys` tell
    values apart: a float's key is itself and its sign, so 0.0 and -0.0 stay two (NaNs are
    each their own, as they are not equal)."""
    table = dict(zip(keys, values))
    if 2 * len(table) > len(values):
        return None
    index = {k: i for i, k in enumerate(table)}
    return [TABLE, list(table.values()), list(map(index.__getitem__, keys))]


def _smaller(steps: list[int], values: list[int]) -> bool:
    return len(msgpack.packb(steps)) < len(msgpack.packb(values))


def _decimals(values: list[float]) -> tuple[int | None, list[Any]]:
    """The places to scale `values` by and the scaled values (None if no float is a short
    decimal). Each scaled int is checked to divide back to its float, sign and all."""
    digits = [_digits(v) for v in values]
    places = max((p for _, p in filter(None, digits)), default=None)
    if places is None:
        return None, values
    scale = 10**places
    out: list[Any] = []
    for v, d in zip(values, digits):
        n = d[0] * 10 ** (places - d[1]) if d is not None else None
        exact = n is not None and INT_LO <= n < INT_HI and n / scale == v
        out.append(n if exact and (n != 0 or copysign(1.0, v) > 0) else v)
    return places, out


def _digits(v: float) -> tuple[int, int] | None:
    """(digits, places) of v's shortest decimal, as repr writes it; None past MAX_PLACES or in an
    exponent (1e+16, nan, inf)."""
    whole, dot, frac = repr(v).partition(".")
    if not dot or not whole.lstrip("-").isdigit() or not frac.isdigit():
        return None
    frac = frac.rstrip("0")
    if len(frac) > MAX_PLACES:
        return None
    return int(whole + frac), len(frac)


def unpack_datas(
    shape_kinds: Any, shape_keys: Any, of: Any, columns: Any, count: int
) -> tuple[list[str], list[Any], bool]:
    """Each of `count` events' kind and data, and whether every data is a map keyed by text (none
    kept whole). ValueError, TypeError or IndexError if the columns do not hold together."""
    if type(shape_kinds) is not list or not set(map(type, shape_kinds)) <= {str}:
        raise TypeError("shape kinds that are not text")
    if len(shape_kinds) != len(shape_keys):
        raise ValueError("shape kinds and keys disagree")
    datas = _unpack_maps(shape_keys, of, columns, count, nest=True)
    return list(map(shape_kinds.__getitem__, of)), datas, None not in shape_keys


def _unpack_maps(shape_keys: Any, of: Any, columns: Any, count: int, nest: bool) -> list[Any]:
    """The maps (or whole data) of `count` events from their shapes and columns."""
    if type(shape_keys) is not list or type(of) is not list or type(columns) is not list:
        raise TypeError("data columns of the wrong type")
    if len(of) != count or not set(map(type, of)) <= {int}:
        raise ValueError("shape indices disagree with the events")
    counts = Counter(of)
    if counts and not 0 <= min(counts) <= max(counts) < len(shape_keys):
        raise IndexError("a shape index out of range")
    made, at = [], 0
    for s, keys in enumerate(shape_keys):
        width = 1 if keys is None else len(keys)
        values = [_values(c, counts[s], nest) for c in columns[at : at + width]]
        if len(values) != width:
            raise ValueError("fewer columns than shapes")
        made.append(iter(_maps(keys, values, counts[s])))
        at += width
    if at != len(columns):
        raise ValueError("more columns than shapes")
    return list(map(next, map(made.__getitem__, of)))


def _maps(keys: Any, values: list[list[Any]], n: int) -> list[Any]:
    """One shape's data: maps of `keys` (text only), or the values kept whole."""
    if keys is None:
        return values[0]
    if type(keys) is not list or not set(map(type, keys)) <= {str}:
        raise TypeError("a shape whose keys are not text")
    if not keys:
        return [{} for _ in range(n)]
    if len(keys) > MAX_BUILT_WIDTH:
        return list(map(dict, map(zip, repeat(keys), zip(*values))))
    return list(map(_map_builder(len(keys))(*keys), *values))


@lru_cache(maxsize=MAX_BUILT_WIDTH)
def _map_builder(width: int) -> Callable[..., Callable[..., dict]]:
    """keys -> a function of `width` values that returns the map of those keys to them, as a dict
    display: twice as quick as dict(zip(keys, values)) (measured: 0.22 against 0.41 ms for 1,000
    maps of 6 keys), and building maps is most of what decoding a 3.0 block costs. Its text holds
    only names made here from `width`, never a key (the keys are the outer function's
    arguments)."""
    keys = ", ".join(f"k{i}" for i in range(width))
    values = ", ".join(f"v{i}" for i in range(width))
    pairs = ", ".join(f"k{i}: v{i}" for i in range(width))
    return eval(f"lambda {keys}: lambda {values}: {{{pairs}}}")  # noqa: S307


def _values(column: Any, n: int, nest: bool) -> list[Any]:
    """One column's `n` values as they were before they were stored."""
    how, arg, values = column
    if how == NESTED and nest:
        shape_keys, of, columns = values
        if None in shape_keys:
            raise ValueError("nested data kept whole")
        return _unpack_maps(shape_keys, of, columns, n, nest=False)
    if type(values) is not list or len(values) != n:
        raise ValueError("a column disagrees with its shape's events")
    if how == PLAIN:
        return values
    if how == STEPS:
        return summed(values)
    if how == DECIMALS and type(arg) is int and 0 <= arg <= MAX_PLACES:
        if not set(map(type, values)) <= {int, float}:
            raise TypeError("decimals that are not numbers")
        scale = 10**arg
        return [v / scale if type(v) is int else v for v in values]
    if how == TABLE and type(arg) is list and set(map(type, arg)) <= {str, float}:
        if not set(map(type, values)) <= {int} or (values and min(values) < 0):
            raise IndexError("a table index out of range")
        return list(map(arg.__getitem__, values))
    raise ValueError(f"a column stored as {how!r}")


def summed(steps: list[Any]) -> list[int]:
    """Ints from their steps, within what msgpack packs."""
    if not set(map(type, steps)) <= {int}:
        raise TypeError("steps that are not ints")
    out = list(accumulate(steps))
    if out and not (INT_LO <= min(out) and max(out) < INT_HI):
        raise ValueError("steps that sum past 64 bits")
    return out
