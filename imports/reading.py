"""Turn an uploaded extract into a header and rows of text, whatever spreadsheet software wrote it."""

import csv
import datetime
import io
import zipfile
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import not_

from django.conf import settings


class RejectedFileError(Exception):
    """The whole file is refused; the message says why, in French."""


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    format: str = "csv"
    encoding: str = ""
    separator: str = ""

    @property
    def description(self):
        if self.format == "xlsx":
            return "classeur Excel (.xlsx), première feuille"
        separator = {";": "point-virgule", ",": "virgule", "\t": "tabulation"}.get(self.separator, self.separator)
        return f"CSV, encodage {self.encoding}, séparateur {separator}"


def max_bytes():
    return settings.IMPORT_MAX_MEGABYTES * 1024 * 1024


def check_size(size):
    if size > max_bytes():
        raise RejectedFileError(
            f"Fichier trop volumineux ({size / 1024 / 1024:.0f} Mo) : la limite est de "
            f"{settings.IMPORT_MAX_MEGABYTES} Mo. Découpez l’extraction par année."
        )


def read_table(data: bytes) -> Table:
    check_size(len(data))
    if not data.strip():
        raise RejectedFileError("Le fichier est vide.")
    table = _read_xlsx(data) if data.startswith(b"PK\x03\x04") else _read_csv(data)
    if not any(h.strip() for h in table.headers):
        raise RejectedFileError("La première ligne doit contenir les noms des colonnes ; elle est vide.")
    if not table.rows:
        raise RejectedFileError("Le fichier ne contient que la ligne d’en-tête : aucune ligne à importer.")
    return table


def _decode(data):
    if b"\x00" in data[:8192]:
        raise RejectedFileError(
            "Ce fichier n’est pas un tableau CSV ou Excel lisible (contenu binaire). "
            "Enregistrez l’extraction au format CSV ou .xlsx."
        )
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "UTF-8 (avec BOM)"
        except UnicodeDecodeError as error:
            raise RejectedFileError(
                f"Le fichier se dit en UTF-8 mais l’octet n° {error.start + 4} n’en est pas : "
                "enregistrez-le de nouveau en CSV UTF-8."
            ) from error
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise RejectedFileError(
            "Encodage non reconnu : enregistrez le fichier en CSV UTF-8 ou en CSV Windows (Windows-1252)."
        ) from error
    return text, "Windows-1252"


def _sniff_separator(header_line):
    counts = {sep: header_line.count(sep) for sep in (";", ",", "\t")}
    separator = max(counts, key=counts.get)
    return separator if counts[separator] else ";"


def _read_csv(data):
    text, encoding = _decode(data)
    if any(ord(c) < 32 and c not in "\r\n\t" for c in text[:8192]):
        raise RejectedFileError("Ce fichier contient des caractères de contrôle : ce n’est pas un CSV lisible.")
    first_line = text.split("\n", 1)[0]
    separator = _sniff_separator(first_line)
    rows = _split_plain(text, separator)
    if rows is None:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, quotechar='"')
        try:
            rows = list(reader)
        except csv.Error as error:
            raise RejectedFileError(f"CSV mal formé : {error}.") from error
    headers = rows[0] if rows else []
    body = rows[1:]
    # Spreadsheets often leave empty trailing lines; they are not rows. Line numbers stay those of the file.
    while body and not any(cell.strip() for cell in body[-1]):
        body.pop()
    return Table(headers=headers, rows=body, format="csv", encoding=encoding, separator=separator)


def _split_plain(text, separator):
    """The rows csv.reader gives of a text with no quote, no lone carriage return, no NUL and no cell beyond its
    size limit, split at C speed (most extracts quote nothing); None for any other text."""
    if '"' in text or "\x00" in text:
        return None
    text = text.replace("\r\n", "\n")
    if "\r" in text:
        return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if lines and max(map(len, lines)) > csv.field_size_limit():
        return None
    rows = list(map(str.split, lines, repeat(separator)))
    for index in compress(range(len(lines)), map(not_, lines)):
        rows[index] = []  # csv.reader's row for an empty line
    return rows


# A real extract compresses about tenfold; a crafted archive far more (a 1.8 KB file once grew a worker to 5.6 GB).
XLSX_MAX_RATIO = 100
XLSX_MAX_MEMBERS = 1000
# Beyond what any extract has (and Excel's own limits): a declared sheet size is never trusted.
XLSX_MAX_COLUMNS = 256
XLSX_MAX_ROWS = 1_048_576


def xlsx_max_uncompressed():
    return 10 * max_bytes()


def check_archive(data):
    """Refuses an .xlsx whose archive would unpack to far more than its size, before any of it is unpacked."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise RejectedFileError(
            "Ce fichier ressemble à une archive mais n’est pas un classeur .xlsx lisible."
        ) from error
    if len(members) > XLSX_MAX_MEMBERS:
        raise RejectedFileError("Ce classeur contient un nombre anormal de parties : il est refusé.")
    unpacked = sum(member.file_size for member in members)
    if unpacked > xlsx_max_uncompressed():
        raise RejectedFileError(
            f"Ce classeur se décompresse en {unpacked / 1024 / 1024:.0f} Mo, au-delà des "
            f"{xlsx_max_uncompressed() / 1024 / 1024:.0f} Mo permis : il est refusé. Enregistrez l’extraction en CSV."
        )
    for member in members:
        if member.file_size > 1024 * 1024 and member.file_size > XLSX_MAX_RATIO * max(member.compress_size, 1):
            raise RejectedFileError(
                "Ce classeur est anormalement compressé (plus de 100 fois) : il est refusé par précaution. "
                "Enregistrez l’extraction en CSV."
            )


def _read_xlsx(data):
    from openpyxl import load_workbook

    check_archive(data)
    try:
        # Formulas are never evaluated: read_only with data_only=False gives them back as text starting with "=".
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise RejectedFileError(
            "Ce fichier ressemble à une archive mais n’est pas un classeur .xlsx lisible."
        ) from error
    sheet = workbook.worksheets[0]
    rows = []
    blank = 0
    for values in sheet.iter_rows(values_only=True, max_col=XLSX_MAX_COLUMNS):
        if len(rows) + blank >= XLSX_MAX_ROWS:
            workbook.close()
            raise RejectedFileError(f"Le classeur dépasse {XLSX_MAX_ROWS} lignes : il est refusé.")
        row = ["" if value is None else _xlsx_text(value) for value in values]
        # Blank lines are counted, not kept, until a filled one follows: line numbers stay those of the sheet.
        if not any(row):
            blank += 1
            continue
        rows.extend([[""]] * blank)
        blank = 0
        rows.append(row)
    workbook.close()
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if not rows:
        raise RejectedFileError("Le classeur est vide.")
    width = len(rows[0])
    while width and not rows[0][width - 1].strip():
        width -= 1
    return Table(headers=rows[0][:width], rows=[row[:width] for row in rows[1:]], format="xlsx")


def _xlsx_text(value):
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
