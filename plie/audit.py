from django.apps import apps
from simple_history.manager import HistoryDescriptor


def save_as(obj, by):
    """Saves with `by` as the author of the history record, inside a request or not (imports, demo, jobs)."""
    obj._history_user = by
    obj.save()
    return obj


class OneManagerClassHistoryDescriptor(HistoryDescriptor):
    """django-simple-history builds a new manager class each time `Model.history` is read, which it does on every save
    that writes a history row (half a millisecond, a tenth of the demo's build): this one builds it once."""

    def __init__(self, model, manager, queryset):
        super().__init__(model, manager=manager, queryset=queryset)
        self.manager = manager.from_queryset(queryset)

    def __get__(self, instance, owner):
        return self.manager(self.model, instance)


def build_history_managers_once():
    for model in apps.get_models():
        name = getattr(model._meta, "simple_history_manager_attribute", None)
        descriptor = model.__dict__.get(name) if name else None
        if type(descriptor) is HistoryDescriptor:
            setattr(
                model,
                name,
                OneManagerClassHistoryDescriptor(descriptor.model, descriptor.manager_class, descriptor.queryset_class),
            )
