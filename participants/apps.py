from django.apps import AppConfig
from django.core.exceptions import ObjectDoesNotExist
from django.db.models.signals import post_delete, post_save


def _participant_moved(sender, instance, raw=False, **kwargs):
    from .participations import resync

    if raw:
        return
    try:
        participant = instance if sender.__name__ == "Participant" else getattr(instance, "participant", None)
        participant = participant or instance.parcours.participant
    except ObjectDoesNotExist:  # deleted with its participant: the cascade takes the participations too
        return
    resync(participant.plie_id, participant.pk)


def _plie_moved(sender, instance, raw=False, **kwargs):
    from .participations import resync

    if raw:
        return
    resync(instance.plie_id if sender.__name__ == "Operation" else instance.operation.plie_id)


class ParticipantsConfig(AppConfig):
    name = "participants"
    verbose_name = "Participants"

    def ready(self):
        # Participations follow attribution (participants/participations.py): every save or delete of what
        # attribution reads asks for a sync, including those of the Django admin and of the shell.
        from operations.models import Operation, ReferentPeriod

        from .models import Parcours, Participant, ReferentAssignment

        for model in (Participant, Parcours, ReferentAssignment):
            post_save.connect(_participant_moved, sender=model, dispatch_uid=f"participations_{model.__name__}")
            post_delete.connect(_participant_moved, sender=model, dispatch_uid=f"participations_del_{model.__name__}")
        for model in (Operation, ReferentPeriod):
            post_save.connect(_plie_moved, sender=model, dispatch_uid=f"participations_{model.__name__}")
            post_delete.connect(_plie_moved, sender=model, dispatch_uid=f"participations_del_{model.__name__}")
