from django.conf import settings
from django.core.files.storage import FileSystemStorage

# Justificatifs, bilans and meeting sheets: outside any publicly served folder, read only through views that check access.
private_storage = FileSystemStorage(location=settings.PRIVATE_STORAGE_ROOT, base_url=None)


def private():
    """The storage of private files, given to FileFields as a callable so that migrations do not embed its path."""
    return private_storage
