"""`python manage.py import_preview RUN_ID`: the preview of a deposited import, as the worker runs it in a child
process with memory and time limits (imports/preview.py). Not meant to be typed."""

import os

from django.core.management.base import BaseCommand

from imports import preview


class Command(BaseCommand):
    help = "Prépare l’aperçu d’un import déposé (lancé par le worker, dans un processus limité)."

    def add_arguments(self, parser):
        parser.add_argument("run_id", type=int)

    def handle(self, *args, run_id, **options):
        preview.limit_this_process()
        try:
            preview.run(run_id)
        except MemoryError:
            os._exit(preview.OUT_OF_MEMORY)  # nothing more can be allocated, not even a traceback
