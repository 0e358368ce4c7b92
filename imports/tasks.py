from celery import shared_task

from .services import execute


@shared_task
def run_import_task(run_id):
    execute(run_id)
