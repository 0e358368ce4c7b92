from celery import shared_task

from .services import generate_bilan


@shared_task
def generate_bilan_task(bilan_id):
    generate_bilan(bilan_id)
