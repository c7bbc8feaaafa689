"""Access look-ups kept per process, dropped in every process the moment access changes.

Every API request looks up its bearer token with its user, the teams the user belongs to and
the role behind each permission check: two or three database round trips of the same answers
request after request. A process keeps them (``LookupCache``), each under the *access
generation* it read before looking them up: a counter in Redis that any change to a token, a
user, a team or a membership increments — saved, deleted or updated in bulk
(``AccessQuerySet``), once when it happens and again when its transaction commits. A request
reads the counter first (one Redis round trip); a kept answer of another generation is not
used. So a revoked or expired token, a removed member or a changed role is refused at once,
in every process; expiry is checked on each request as before.

Without Redis (the embedded default's cache is per process) or when Redis does not answer,
nothing is kept and every look-up goes to the database as before.
"""

from __future__ import annotations

import logging
import threading

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.db import models, transaction

from controlpanel.redis_direct import cache_redis

logger = logging.getLogger(__name__)

KEY = "access:generation"


def generation() -> int | None:
    """The access generation now, or None when look-ups must not be kept."""
    redis = cache_redis()
    if redis is None:
        return None
    try:
        return int(redis.command("GET", _key()) or 0)
    except Exception:  # Redis down: no kept look-ups, the database answers
        logger.warning("Access generation unreadable: look-ups go to the database.")
        return None


def _key() -> str:
    return caches[DEFAULT_CACHE_ALIAS].make_key(KEY)


def _bump() -> None:
    redis = cache_redis()
    if redis is None:
        return
    try:
        redis.command("INCR", _key())
    except Exception:
        # Nobody can read the counter either while Redis does not answer (nothing kept is
        # used then); this process forgets what it kept in any case.
        logger.exception("Access generation not incremented")
    LookupCache.forget_all()


def changed() -> None:
    """Access changed (a token, a user, a team or a membership): every kept look-up is
    stale. Counted now (a process reading the old rows before the commit keeps them under
    the new number) and again at the commit (which drops those)."""
    _bump()
    transaction.on_commit(_bump)


class AccessQuerySet(models.QuerySet):
    """Bulk updates of an access model count as access changes (signals cover save and
    delete). ``access_neutral``: fields whose update changes nobody's access."""

    access_neutral: frozenset[str] = frozenset()

    def update(self, **kwargs):
        answer = super().update(**kwargs)
        if not set(kwargs) <= self.access_neutral:
            changed()
        return answer

    update.alters_data = True

    def bulk_update(self, objs, fields, batch_size=None):
        answer = super().bulk_update(objs, fields, batch_size=batch_size)
        changed()
        return answer

    bulk_update.alters_data = True


def on_access_change(sender, **kwargs) -> None:
    """post_save / post_delete receiver of the access models (a save of only fields that
    change nobody's access, such as a sign-in's time, does not count)."""
    if kwargs.get("raw"):
        return
    fields = kwargs.get("update_fields")
    neutral = getattr(sender._default_manager._queryset_class, "access_neutral", frozenset())
    if fields and set(fields) <= neutral:
        return
    changed()


def watch(*models_: type[models.Model]) -> None:
    """Count every save and delete of ``models_`` as an access change."""
    from django.db.models.signals import post_delete, post_save

    for model in models_:
        uid = f"access-{model._meta.label}"
        post_save.connect(on_access_change, sender=model, dispatch_uid=uid)
        post_delete.connect(on_access_change, sender=model, dispatch_uid=uid)


class LookupCache:
    """Answers kept by this process, each under the generation read before its look-up."""

    _all: list[LookupCache] = []
    _lock = threading.Lock()

    def __init__(self, size: int = 2048):
        self.size = size
        self._entries: dict = {}
        with self._lock:
            self._all.append(self)

    def get(self, key, generation: int | None):
        if generation is None:
            return None
        entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] == generation else None

    def put(self, key, generation: int | None, value) -> None:
        if generation is None:
            return
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[key] = (generation, value)

    @classmethod
    def forget_all(cls) -> None:
        for each in cls._all:
            each._entries.clear()


def remember_generation(user, generation: int | None) -> None:
    """The generation this request read, kept on its user for the request's other look-ups
    (its teams, its roles)."""
    if generation is not None:
        user.__dict__["_access_generation"] = generation


def generation_of(user) -> int | None:
    """The generation read by this request (None: a browser session, nothing kept)."""
    return None if user is None else user.__dict__.get("_access_generation")


def snapshot(instance: models.Model) -> dict:
    """A row's loaded column values, to build fresh instances from (nothing shared between
    requests: each gets its own instance, as from the database)."""
    names = [field.attname for field in instance._meta.concrete_fields]
    values = instance.__dict__
    return {name: _plain(values[name]) for name in names if name in values}


def _plain(value):
    from django.db.models.fields.files import FieldFile

    return value.name if isinstance(value, FieldFile) else value


def rebuild(model, row: dict, db: str = "default"):
    return model.from_db(db, list(row), list(row.values()))
