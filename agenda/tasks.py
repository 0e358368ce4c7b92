from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def send_reminder(appointment_id):
    services.send_reminder(appointment_id)


@shared_task
def send_due_reminders():
    return services.send_due_reminders()
