"""How each kind of model field is stored, rebuilt and copied: the parts fields.py builds paths of.

A kind works on values, never on a model: fields.py says which field is of which kind and derives
from it what snapshot(), compact(), copy(), a continued session and the live process do with a
whole model. What rebuilds a value is handed the fresh model's own (empty) value to fill, so a
bounded queue keeps the bound SwarmModel() gives it and no kind repeats it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import MISSING, Field, fields
from itertools import repeat, starmap
from operator import attrgetter, methodcaller
from typing import Any

from swarmscope.core.model.views import build, check_rows, from_rows

_ID = attrgetter("id")
_OWN = methodcaller("copy")
"""How a field the model changes in place is copied: one level, by the container's own copy()."""


class ViewFields:
    """One view's fields, each named once, by what a copy and a continued session need of it.

    The row layout (the order of a row, and of the names a keyframe's header lists) is the view's
    own field order, which files on disk already name; the table says how each field travels.
    """

    def __init__(
        self,
        view: type,
        shared: tuple[str, ...],
        owned: tuple[str, ...] = (),
        counted: tuple[str, ...] = (),
    ) -> None:
        """`shared`: values the model only ever replaces (numbers, text, and containers swapped
        whole, as states, blockers and running are): copies share them. `owned`: containers the
        model changes in place (metrics): each copy, restore and unpacked keyframe gets its own.
        `counted`: what a session counts for itself: a session that continues another starts
        them at their defaults."""
        self.view, self.shared, self.owned, self.counted = view, shared, owned, counted
        self.names = tuple(f.name for f in fields(view))
        self.name_set = frozenset(self.names)
        self.row = attrgetter(*self.names)
        self.defaults = {f.name: _default(f) for f in fields(view) if f.name in counted}

    def own(self, views: list) -> None:
        """Give each of `views` its own copy of every owned field (a column at a time, in C:
        this runs for each of a thousand agents on every copy and restore)."""
        for name in self.owned:
            values = map(_OWN, map(attrgetter(name), views))
            deque(map(setattr, views, repeat(name), values), maxlen=0)

    def copies(self, views: Iterable) -> list:
        """A new record for each of `views`, equal to it, with its own owned fields."""
        out = list(starmap(self.view, map(self.row, views)))
        self.own(out)
        return out

    def plain(self, view: Any) -> dict[str, Any]:
        """One record as a map by field name (a snapshot's), owned fields copied."""
        plain = dict(zip(self.names, self.row(view)))
        for name in self.owned:
            plain[name] = plain[name].copy()
        return plain

    def restart(self, views: Iterable) -> None:
        """Put every counted field of `views` back at its default."""
        for name, default in self.defaults.items():
            for view in views:
                setattr(view, name, default)


def _default(f: Field) -> Any:
    return f.default_factory() if f.default is MISSING else f.default


class Simple:
    """A value kept as it is (a counter) or in one container the model adds to (a queue, a tally):
    stored as its plain form, rebuilt and copied by filling the fresh model's own container."""

    header = None

    def __init__(
        self,
        plain: Callable[[Any], Any],
        fill: Callable[[Any, Any], Any],
        check: Callable[[Any], bool] | None = None,
    ) -> None:
        """`plain`: the stored form. `fill(fresh, plain)`: the value again. `check(plain)`: False
        for a stored form of the wrong type (a damaged file, or a hostile hub's answer)."""
        self.plain, self.rows, self.fill = plain, plain, fill
        self._check = check

    def fits(self, plain: Any) -> bool:
        return self._check is None or self._check(plain)

    def from_plain(self, fresh: Any, plain: Any) -> Any:
        return self.fill(fresh, plain)

    def from_rows(self, fresh: Any, rows: Any, header: Any) -> Any:
        return self.fill(fresh, rows)

    def copy(self, fresh: Any, value: Any) -> Any:
        return self.fill(fresh, value)

    def restart(self, value: Any) -> None:
        """Nothing inside to restart: a counted field of this kind starts again whole."""


class Records:
    """Views kept by their id (agents, tasks): stored as rows under a header that names their
    fields, so a keyframe another version wrote still restores (views.from_rows)."""

    def __init__(
        self, fields: ViewFields, header: str, *, snapshot_by_id: bool, shared: bool
    ) -> None:
        """`header`: the compact key of the field names. `snapshot_by_id`: a snapshot holds a map
        by id (agents) rather than a list (tasks), as format 1.0 keyframes do. `shared`: copies
        share the records and the model replaces one before it changes it (SwarmModel._shared),
        rather than each copy getting its own."""
        self.fields, self.header = fields, header
        self.by_id, self.shared = snapshot_by_id, shared

    def fits(self, plain: Any) -> bool:
        """Checked field by field as the records are built (views.check_rows)."""
        return True

    def rows(self, records: dict) -> list[tuple]:
        return list(map(self.fields.row, records.values()))

    def from_rows(self, fresh: dict, rows: list, header: Any) -> dict:
        views = from_rows(self.fields.view, self.fields.names, header, rows)
        self.fields.own(views)
        fresh.update(zip(map(_ID, views), views))
        return fresh

    def plain(self, records: dict) -> dict | list:
        plains = map(self.fields.plain, records.values())
        return dict(zip(records, plains)) if self.by_id else list(plains)

    def from_plain(self, fresh: dict, plain: Any) -> dict:
        f = self.fields
        views = [build(f.view, f.name_set, p) for p in (plain.values() if self.by_id else plain)]
        check_rows(f.view, map(f.row, views))
        f.own(views)
        fresh.update(zip(plain if self.by_id else map(_ID, views), views))
        return fresh

    def copy(self, fresh: dict, records: dict) -> dict:
        if self.shared:
            return records.copy()
        fresh.update(zip(records, self.fields.copies(records.values())))
        return fresh

    def restart(self, records: dict) -> None:
        self.fields.restart(records.values())


class Pairs:
    """Views kept by a pair of agent ids (links): stored as rows that begin with the two ids, in
    the view's field order (no header: a link's fields have not changed since rows began)."""

    header = None

    def __init__(self, fields: ViewFields) -> None:
        self.fields = fields

    def fits(self, plain: Any) -> bool:
        """Checked field by field as the records are built (views.check_rows)."""
        return True

    def rows(self, pairs: dict) -> list[tuple]:
        row = self.fields.row
        return [(s, d, *row(v)) for (s, d), v in pairs.items()]

    def from_rows(self, fresh: dict, rows: list, header: Any) -> dict:
        check_rows(self.fields.view, rows, ids=2)
        view = self.fields.view
        fresh.update(((s, d), view(*rest)) for s, d, *rest in rows)
        return fresh

    def plain(self, pairs: dict) -> list[list]:
        plain = self.fields.plain
        return [[s, d, plain(v)] for (s, d), v in pairs.items()]

    def from_plain(self, fresh: dict, plain: Any) -> dict:
        f = self.fields
        fresh.update(((s, d), build(f.view, f.name_set, v)) for s, d, v in plain)
        check_rows(f.view, map(f.row, fresh.values()))
        return fresh

    def copy(self, fresh: dict, pairs: dict) -> dict:
        fresh.update(zip(pairs, self.fields.copies(pairs.values())))
        return fresh

    def restart(self, pairs: dict) -> None:
        self.fields.restart(pairs.values())


class Derived:
    """A value no file holds, worked out from the rest when a model is rebuilt, copied as it is."""

    header = None

    def __init__(self, derive: Callable[[Any], Any]) -> None:
        self.derive = derive

    def copy(self, fresh: Any, value: Any) -> Any:
        return value

    def restart(self, value: Any) -> None:
        """Derived from what the continued session keeps: nothing to restart."""


class Local:
    """One model object's own bookkeeping: stored nowhere, and a copy starts from its fresh value
    (SwarmModel.copy() sets what it must)."""

    header = None

    def copy(self, fresh: Any, value: Any) -> Any:
        return fresh

    def restart(self, value: Any) -> None:
        """Bookkeeping, not a count."""


Kind = Simple | Records | Pairs | Derived | Local
