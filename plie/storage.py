import os
import tempfile

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class WholeFileSystemStorage(FileSystemStorage):
    """Writes each file under a temporary name and renames it once complete: a full disk or a killed process leaves
    no half-written file under a name the database may point to, only a temporary one that is removed on error."""

    def _save(self, name, content):
        directory = os.path.dirname(self.path(name))
        os.makedirs(directory, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".partiel-")
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in content.chunks():
                    out.write(chunk.encode() if isinstance(chunk, str) else chunk)
                out.flush()
                os.fsync(out.fileno())
            while True:
                try:
                    os.link(temporary, self.path(name))  # fails if the name exists, like Django's O_EXCL
                    break
                except FileExistsError:
                    name = self.get_available_name(name)
        finally:
            os.unlink(temporary)
        if self.file_permissions_mode is not None:
            os.chmod(self.path(name), self.file_permissions_mode)
        return str(os.path.relpath(self.path(name), self.location)).replace("\\", "/")


# Justificatifs, bilans and meeting sheets: outside any publicly served folder, read only through views that check access.
private_storage = WholeFileSystemStorage(location=settings.PRIVATE_STORAGE_ROOT, base_url=None)


def private():
    """The storage of private files, given to FileFields as a callable so that migrations do not embed its path."""
    return private_storage
