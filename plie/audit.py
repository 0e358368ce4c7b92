def save_as(obj, by):
    """Saves with `by` as the author of the history record, inside a request or not (imports, demo, jobs)."""
    obj._history_user = by
    obj.save()
    return obj
