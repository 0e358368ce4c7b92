"""A token per PLIE that changes with every write that can change one of its figures, so that a report computed
under one token is never served once the data behind it has changed (reporting/report.py caches under it).

Model saves, deletions and many-to-many changes in the apps that figures read bump the token of the object's PLIE
(found by following its foreign keys up to `Plie`) through signals. Writes that send no signal (`QuerySet.update`,
`bulk_create`, `bulk_update`, COPY in imports) call `bump(plie)` themselves. Shared reference data (communes) and
fixtures loaded raw bump the token of every PLIE (`bump(None)`).

Inside a transaction the token is renewed when it commits; until then, the transaction that wrote neither reads nor
fills the cache (`written`), and the others keep reading the committed rows under the old token. Tokens are random,
not counters, so that a token lost by the cache (eviction, restart) is never given out again."""

import uuid

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_save, pre_delete

ALL = "all"
# The apps whose rows figures are computed from; their models listed here are read by no figure.
READ_BY_FIGURES = {"territories", "operations", "participants", "steps", "applications", "plie"}
IGNORED = {"plie.user", "plie.membership", "plie.job", "participants.fileaccess", "participants.erasurerecord"}


def _key(plie_id):
    return f"dataversion:{ALL if plie_id is None else plie_id}"


def token(plie_id):
    """The current token of the PLIE (`None`: the token of data shared by every PLIE)."""
    key = _key(plie_id)
    value = cache.get(key)
    if value is None:
        cache.add(key, uuid.uuid4().hex, timeout=None)
        value = cache.get(key)
    return value


def tokens(plie_id):
    """What a figure of the PLIE depends on: its own data and the shared data."""
    return f"{token(plie_id)}.{token(None)}"


def _renew(plie_id):
    cache.set(_key(plie_id), uuid.uuid4().hex, timeout=None)


def _pending(connection):
    """The PLIE ids whose token the open transaction will renew on commit (None: every PLIE)."""
    if not connection.in_atomic_block:
        return set()
    return {
        func.dataversion_of
        for _, func, _ in connection.run_on_commit
        if hasattr(func, "dataversion_of") and not func.done
    }


def bump(plie, using=None):
    """Say that the data of `plie` (a Plie, its id, or None for every PLIE) has changed: its token is renewed at
    once outside a transaction, on commit inside one (and not at all if it is rolled back)."""
    plie_id = getattr(plie, "pk", plie)
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        _renew(plie_id)
        return
    if plie_id in _pending(connection):
        return

    def renew():
        renew.done = True
        _renew(plie_id)

    renew.dataversion_of, renew.done = plie_id, False
    transaction.on_commit(renew, using=using)


def written(plie_id, using=None):
    """Whether the open transaction has written data of the PLIE not yet committed: a report computed now may show
    rows that others cannot see (or that a rollback will remove), so it is neither cached nor read from the cache."""
    pending = _pending(transaction.get_connection(using))
    return plie_id in pending or None in pending


def _path_to_plie(model, depth=4):
    """The names of the foreign keys from `model` to `Plie` (non-null ones first), or None if it has none."""
    if depth == 0:
        return None
    relations = [f for f in model._meta.concrete_fields if f.many_to_one or f.one_to_one]
    for field in sorted(relations, key=lambda f: f.null):
        if field.related_model._meta.label_lower == "plie.plie":
            return [field.name]
    for field in sorted(relations, key=lambda f: f.null):
        if field.related_model is model:
            continue
        rest = _path_to_plie(field.related_model, depth - 1)
        if rest:
            return [field.name, *rest]
    return None


_paths = {}


def plie_id_of(instance):
    """The id of the PLIE the row belongs to, or None when it belongs to none (or to all, as communes do)."""
    model = type(instance)
    if model._meta.label_lower == "plie.plie":
        return instance.pk
    if model not in _paths:
        _paths[model] = _path_to_plie(model)
    path = _paths[model]
    if path is None:
        return None
    obj = instance
    for index, name in enumerate(path):
        field = obj._meta.get_field(name)
        if index == len(path) - 1:
            return getattr(obj, field.attname)
        if not field.is_cached(obj):
            parent_id = getattr(obj, field.attname)
            if parent_id is None:
                return None
            lookup = "__".join(path[index + 1 :])
            rows = field.related_model._base_manager.filter(pk=parent_id).values_list(lookup, flat=True)
            return next(iter(rows), None)
        obj = getattr(obj, name)
        if obj is None:
            return None
    return None


def _tracked(model):
    meta = model._meta
    return (
        meta.app_label in READ_BY_FIGURES
        and meta.label_lower not in IGNORED
        and not meta.model_name.startswith("historical")
    )


def _changed(sender, instance, raw=False, using=None, **kwargs):
    if not _tracked(sender):
        return
    bump(None if raw else plie_id_of(instance), using=using)


def _m2m_changed(sender, instance, action, using=None, **kwargs):
    if action in ("post_add", "post_remove", "post_clear") and _tracked(type(instance)):
        bump(plie_id_of(instance), using=using)


def connect():
    post_save.connect(_changed, dispatch_uid="dataversion-save")
    pre_delete.connect(_changed, dispatch_uid="dataversion-delete")
    m2m_changed.connect(_m2m_changed, dispatch_uid="dataversion-m2m")
