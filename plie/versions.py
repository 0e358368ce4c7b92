"""Edits carry the version they started from: a save over someone else's change is refused, never silent.

The version of an object is its latest history row (django-simple-history records every save with its author), so
nothing is added to the models and the refusal can say who changed what, and when."""

from django import forms
from django.utils import timezone


def version_of(instance):
    latest = instance.history.order_by("-history_id").values_list("history_id", flat=True).first()
    return str(latest or 0)


def _shown(value):
    if value in (None, ""):
        return "(vide)"
    if value is True or value is False:
        return "oui" if value else "non"
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "…"


def changes_since(instance, version):
    """What was saved after `version`: one French sentence per save, with its author, its time and its values."""
    model = type(instance)
    records = list(
        instance.history.filter(history_id__gt=int(version or 0)).order_by("history_id").select_related("history_user")
    )
    sentences = []
    for record in records:
        previous = record.prev_record
        fields = []
        if previous is not None:
            for change in record.diff_against(previous).changes:
                try:
                    label = model._meta.get_field(change.field).verbose_name
                except Exception:  # noqa: BLE001 — a field since removed keeps its technical name
                    label = change.field
                fields.append(f"{label} : {_shown(change.new)}")
        who = record.history_user or "un traitement automatique"
        when = timezone.localtime(record.history_date)
        detail = f" ({' ; '.join(fields)})" if fields else ""
        sentences.append(f"{who} l’a modifié le {when:%d/%m/%Y à %H:%M}{detail}.")
    return sentences


class VersionedFormMixin:
    """For the form of an object others may edit at the same time. `versioned` is the object (a ModelForm's instance
    by default); the hidden `version` field carries what the page was shown with."""

    versioned_object = None
    versioned_label = "ce dossier"

    def __init__(self, *args, versioned=None, **kwargs):
        super().__init__(*args, **kwargs)
        target = versioned if versioned is not None else getattr(self, "instance", None)
        self.versioned_object = target if target is not None and target.pk else None
        self.fields["version"] = forms.CharField(widget=forms.HiddenInput, required=False)
        if self.versioned_object is not None:
            self.fields["version"].initial = version_of(self.versioned_object)

    def clean(self):
        cleaned = super().clean()
        sent = self.data.get(self.add_prefix("version"))
        if self.versioned_object is None or not sent:
            return cleaned
        refusal, current = stale_edit(self.versioned_object, sent, self.versioned_label)
        if refusal:
            # The form now carries the current version: saving again is a choice made knowing the other change.
            self.data = self.data.copy()
            self.data[self.add_prefix("version")] = current
            raise forms.ValidationError(refusal, code="stale")
        return cleaned


def stale_edit(target, sent, label):
    """(the refusal in French, or "", and the current version) for an edit of `target` that started from `sent`."""
    # Locked until the request commits: two saves of the same version cannot both pass.
    type(target)._base_manager.select_for_update().filter(pk=target.pk).first()
    current = version_of(target)
    if not sent or sent == current:
        return "", current
    changes = " ".join(changes_since(target, sent))
    return (
        f"Quelqu’un a enregistré {label} pendant votre saisie : {changes} Vos modifications ne sont pas "
        "enregistrées ; elles sont toujours dans le formulaire. Relisez-les au regard de ce changement, puis "
        "enregistrez de nouveau.",
        current,
    )
