"""What an import says of each file: its kind, its counts, its errors (line, column, value, message), its rows."""

from dataclasses import dataclass, field

CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"
PREVIEW_ROWS = 500


@dataclass
class FileResult:
    name: str
    kind: str | None = None
    description: str = ""
    matched: list = field(default_factory=list)
    ignored: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list = field(default_factory=list)
    rows: list = field(default_factory=list)

    @property
    def rejected(self):
        return bool(self.errors)

    def error(self, line, column, value, message):
        self.errors.append({"line": line, "column": column, "value": value, "message": message})

    def count(self, rows, label, unchanged=0):
        """The counts and the first rows of the preview, once every row has its status or an error; `unchanged`:
        the unchanged rows not among `rows`."""
        statuses = {row["_line"]: row.get("_status", UNCHANGED) for row in rows}
        for error in self.errors:
            statuses[error["line"]] = ERROR
        counts = {CREATE: 0, UPDATE: 0, UNCHANGED: unchanged}
        for status in statuses.values():
            counts[status] = counts.get(status, 0) + 1
        self.created, self.updated, self.unchanged = counts[CREATE], counts[UPDATE], counts[UNCHANGED]
        self.rows = [
            {"line": row["_line"], "status": statuses[row["_line"]], "label": label(row)} for row in rows[:PREVIEW_ROWS]
        ]
        self.errors.sort(key=lambda e: e["line"] or 0)
        if self.rejected:
            self.created = self.updated = self.unchanged = 0

    def as_json(self):
        """The file's entry of `import_extract --json` (shared/spec/interfaces.md)."""
        return {
            "file": self.name,
            "kind": self.kind,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.errors,
        }

    def as_report(self):
        return {
            **self.as_json(),
            "description": self.description,
            "matched": self.matched,
            "ignored": self.ignored,
            "missing": self.missing,
            "rows": self.rows,
        }
