"""Reads compiled to SQL once per process and run again with new values.

Django compiles a queryset to SQL each time it is evaluated: on this machine that is most of
the CPU a panel request spends on its hot reads (the token behind a bearer header ~0.6 ms, the
caller's teams ~0.4 ms, a page of deployments ~0.9 ms before a row is read). A prepared read is
a function of a few values (ids, digests) returning a queryset whose shape does not depend on
them: the same tables, joins, columns, filters and order, only the compared values change. It
is compiled the first time it runs (per database connection alias); later runs reuse the SQL
with the new values in place and build the model instances as Django does.

Rules for ``build``:
- its arguments are ids, digests or dates (UUIDs, long strings, ``datetime.date``) that reach
  the SQL as parameters unchanged, each at least once (checked at the first run);
- no slicing, ``prefetch_related``, ``distinct`` or ``select_for_update``: slice the prepared
  rows instead (``rows[0:10]``, ``rows.first()``), which adds ``LIMIT``/``OFFSET``.

The queries still go through the connection's cursor (query logging and counting, the
connection health check and transactions apply as to any other query).
"""

from __future__ import annotations

import copy
import datetime
import threading
import uuid
from collections.abc import Callable

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators
from django.db.models.signals import post_init, pre_init

_CONSTANT = -1


class _Queryset:
    """What ``ModelIterable`` reads of a queryset, around an already compiled query."""

    _known_related_objects: dict = {}

    def __init__(self, model, db, compiler):
        self.model, self.db, self._compiler = model, db, compiler
        self.query = self

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        return self._compiler


class _Compiled:
    __slots__ = (
        "annotations",
        "col_count",
        "compiler",
        "converters",
        "count_plan",
        "count_sql",
        "init_list",
        "model",
        "plan",
        "populators",
        "sql",
        "start_end",
    )


def _from_db(model):
    """``model.from_db``, or the same instance built without ``Model.__init__``'s per-field
    ``setattr`` (~8 µs for a site's columns) when nothing can tell the difference: the model
    keeps Django's ``__init__`` and ``from_db`` and nothing listens to its init signals. A
    column left out (``defer``/``only``) stays deferred, loaded on access as Django does."""
    if (
        model.__init__ is not Model.__init__
        or model.from_db.__func__ is not Model.from_db.__func__
        or pre_init.has_listeners(model)
        or post_init.has_listeners(model)
    ):
        return model.from_db
    new = object.__new__

    def build(db, names, values):
        instance = new(model)
        state = instance._state = ModelState()
        state.adding, state.db = False, db
        instance.__dict__.update(zip(names, values, strict=True))
        return instance

    return build


def _populate(populator, row, parent, builders: dict) -> None:
    """Django's ``RelatedPopulator.populate`` (a ``select_related`` row), with ``_from_db``
    (``builders``: its answer per model, for one fetch)."""
    if populator.reorder_for_init:
        values = populator.reorder_for_init(row)
    else:
        values = row[populator.cols_start : populator.cols_end]
    if values[populator.pk_idx] is None:
        instance = None
    else:
        model = populator.model_cls
        build = builders.get(model) or builders.setdefault(model, _from_db(model))
        instance = build(populator.db, populator.init_list, values)
        for child in populator.related_populators:
            _populate(child, row, instance, builders)
    populator.local_setter(parent, instance)
    if instance is not None:
        populator.remote_setter(instance, parent)


def _plan(params, args, *, every: bool = True) -> list[tuple[int, object]]:
    """For each SQL parameter: which argument it is (and in which form), or a constant.
    ``every``: each argument must be found (the count leaves out what only the rows need)."""
    plan, found = [], set()
    for param in params:
        where = next(((i, None) for i, arg in enumerate(args) if param is arg), None)
        if where is None:
            for i, arg in enumerate(args):
                if isinstance(arg, uuid.UUID) and param == arg.hex:
                    where = (i, "hex")  # SQLite's UUIDs
                    break
                if type(arg) is datetime.date and param == str(arg):
                    where = (i, "str")  # SQLite's dates
                    break
        if where is None:
            plan.append((_CONSTANT, param))
        else:
            plan.append(where)
            found.add(where[0])
    missing = set(range(len(args))) - found
    if missing and every:
        raise ValueError(
            f"A prepared read's argument(s) {sorted(missing)} do not reach its SQL unchanged."
        )
    return plan


def _params(plan, args) -> list:
    return [
        form
        if i == _CONSTANT
        else args[i].hex
        if form == "hex"
        else str(args[i])
        if form == "str"
        else args[i]
        for i, form in plan
    ]


class PreparedQuery:
    """``PreparedQuery(lambda team_id: Model.objects.filter(team_id=team_id).order_by(...))``;
    calling it with the values gives lazy :class:`PreparedRows`.

    With ``row`` (a named tuple's class), ``build`` gives ``.values_list(...)`` of the same
    columns and each row is ``row(*values)``: plain rows, for reads of many lines."""

    def __init__(self, build: Callable[..., QuerySet], row: Callable | None = None):
        self.build, self.row = build, row
        self._compiled: dict[tuple[str, str], _Compiled] = {}
        self._lock = threading.Lock()
        self._model = None

    def __call__(self, *args) -> PreparedRows:
        return PreparedRows(self, args)

    def compiled(self, args, *, count: bool = False) -> tuple[str, _Compiled]:
        if self._model is None:
            self._model = self.build(*args).model
        db = router.db_for_read(self._model)
        key = (db, connections[db].vendor)
        entry = self._compiled.get(key)
        if entry is None or (count and entry.count_sql is None):
            queryset = self.build(*args)
            with self._lock:
                entry = self._compiled.get(key) or self._compile(queryset, args)
                if count and entry.count_sql is None:
                    self._compile_count(entry, queryset, args)
                self._compiled[key] = entry
        return db, entry

    @staticmethod
    def _compile(queryset: QuerySet, args) -> _Compiled:
        query = queryset.query
        if query.is_sliced or queryset._prefetch_related_lookups or query.distinct:
            raise ValueError("A prepared read cannot be sliced, distinct or prefetch.")
        if query.select_for_update or queryset._iterable_class not in (
            ModelIterable,
            ValuesListIterable,
        ):
            raise ValueError("A prepared read returns instances or tuples and does not lock.")
        compiler = query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        entry = _Compiled()
        entry.model, entry.compiler, entry.sql = queryset.model, compiler, sql
        entry.plan = _plan(params, args)
        entry.count_sql = entry.count_plan = None
        entry.col_count = compiler.col_count
        # What ModelIterable works out from the compiler on every run, worked out once.
        entry.populators = None
        fields = [column[0] for column in compiler.select[0 : compiler.col_count]]
        entry.converters = list(compiler.get_converters(fields).items())
        if queryset._iterable_class is ModelIterable and compiler.klass_info is not None:
            select, klass_info = compiler.select, compiler.klass_info
            entry.annotations = list((compiler.annotation_col_map or {}).items())
            start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            entry.start_end = (start, end)
            entry.init_list = [column[0].target.attname for column in select[start:end]]
            entry.populators = get_related_populators(klass_info, select, queryset.db)
        return entry

    @staticmethod
    def _compile_count(entry: _Compiled, queryset: QuerySet, args) -> None:
        ids = queryset.order_by().values("pk")
        sql, params = ids.query.get_compiler(using=queryset.db).as_sql()
        entry.count_plan = _plan(params, args, every=False)
        # Django's own SQL, with its parameters still placeholders.
        entry.count_sql = f"SELECT COUNT(*) FROM ({sql}) prepared_count"  # noqa: S608


class PreparedRows:
    """A prepared read with its values: ``count()``, slices (one query each, ``LIMIT`` and
    ``OFFSET``), ``first()``, and iteration over every row (fetched once)."""

    ordered = True  # for Django's Paginator: the order is the prepared queryset's

    def __init__(self, prepared: PreparedQuery, args: tuple):
        self.prepared, self.args = prepared, args
        self._all: list | None = None
        self._count: int | None = None

    def _fetch(self, limit: int | None = None, offset: int = 0) -> list:
        db, entry = self.prepared.compiled(self.args)
        sql = entry.sql
        if limit is not None:
            sql = f"{sql} LIMIT {int(limit)} OFFSET {int(offset)}"
        params = _params(entry.plan, self.args)
        connection = connections[db]
        if entry.populators is None and self.prepared.row is None:
            compiler = copy.copy(entry.compiler)
            compiler.connection = connection
            compiler.as_sql = lambda *args, **kwargs: (sql, params)
            return list(ModelIterable(_Queryset(entry.model, db, compiler)))
        # ModelIterable's work with what does not change between runs kept from the first.
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if entry.converters:
            rows = [list(row) for row in rows]
            for row in rows:
                for position, (converters, expression) in entry.converters:
                    value = row[position]
                    for converter in converters:
                        value = converter(value, expression, connection)
                    row[position] = value
        if self.prepared.row is not None:
            make, count = self.prepared.row, entry.col_count
            return [make(*row[:count]) for row in rows]
        build, (start, end), names = _from_db(entry.model), entry.start_end, entry.init_list
        instances, builders = [], {}
        for row in rows:
            instance = build(db, names, row[start:end])
            for populator in entry.populators:
                _populate(populator, row, instance, builders)
            for name, position in entry.annotations:
                setattr(instance, name, row[position])
            instances.append(instance)
        return instances

    def count(self) -> int:
        if self._all is not None:
            return len(self._all)
        if self._count is None:
            db, entry = self.prepared.compiled(self.args, count=True)
            with connections[db].cursor() as cursor:
                cursor.execute(entry.count_sql, _params(entry.count_plan, self.args))
                self._count = cursor.fetchone()[0]
        return self._count

    def first(self):
        if self._all is not None:
            return self._all[0] if self._all else None
        rows = self._fetch(limit=1)
        return rows[0] if rows else None

    def __getitem__(self, item):
        if isinstance(item, int):
            if item < 0:
                raise IndexError("Negative indexing is not supported.")
            rows = self[item : item + 1]
            if not rows:
                raise IndexError(item)
            return rows[0]
        if item.step not in (None, 1) or (item.start or 0) < 0 or (item.stop or 0) < 0:
            raise ValueError("Only forward slices of prepared rows are supported.")
        start = item.start or 0
        if self._all is not None:
            return self._all[item]
        if item.stop is None:
            return self._fetch()[start:]
        return self._fetch(limit=max(0, item.stop - start), offset=start)

    def __iter__(self):
        if self._all is None:
            self._all = self._fetch()
        return iter(self._all)

    def __len__(self) -> int:
        if self._all is None:
            self._all = self._fetch()
        return len(self._all)

    def __bool__(self) -> bool:
        return len(self) > 0


class PreparedAggregate:
    """``PreparedAggregate(lambda team_id, since: (queryset, {"total": Count("pk"), ...}))``;
    calling it with the values answers ``queryset.aggregate(**expressions)``.

    Django builds an aggregate's query anew each time (resolving every expression and filter:
    ~2 ms of CPU for the dashboard's nine). The first run is Django's own, and its SQL is kept
    when each argument reached it unchanged; later runs reuse it with the new values. On
    PostgreSQL only, whose drivers answer counts, averages and intervals as Django's own
    converters leave them; elsewhere (SQLite's durations need converting) Django runs it."""

    def __init__(self, build: Callable[..., tuple[QuerySet, dict]]):
        self.build = build
        self._compiled: dict[str, tuple[str, list, list[str]] | None] = {}
        self._model = None

    def __call__(self, *args) -> dict:
        if self._model is not None:
            db = router.db_for_read(self._model)
            entry = self._compiled.get(db)
            if entry:
                sql, plan, names = entry
                with connections[db].cursor() as cursor:
                    cursor.execute(sql, _params(plan, args))
                    return dict(zip(names, cursor.fetchone(), strict=True))
        queryset, expressions = self.build(*args)
        self._model = queryset.model
        if queryset.db in self._compiled:  # not preparable here: Django's own each time
            return queryset.aggregate(**expressions)
        return self._first(connections[queryset.db], queryset, expressions, args)

    def _first(self, connection, queryset, expressions, args) -> dict:
        seen = []

        def capture(execute, sql, params, many, context):
            seen.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(capture):
            answer = queryset.aggregate(**expressions)
        entry = None
        if connection.vendor == "postgresql" and len(seen) == 1:
            sql, params = seen[0]
            try:
                plan = _plan(params or (), args)
            except ValueError:
                plan = None
            if plan is not None and list(answer) == list(expressions):
                entry = (sql, plan, list(expressions))
        self._compiled[queryset.db] = entry
        return answer
