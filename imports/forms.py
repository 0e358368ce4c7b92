from django import forms

from .columns import COLUMNS
from .reading import max_bytes


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(f, initial) for f in files if f] or super().clean(None)


class UploadForm(forms.Form):
    files = MultipleFileField(
        label="Fichiers d’extraction",
        help_text="CSV (séparateur point-virgule ou virgule, UTF-8 ou Windows) ou classeur .xlsx ; "
        "participants, étapes, entretiens ou référents, dans n’importe quel ordre.",
        widget=MultipleFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )
    create_referents = forms.BooleanField(
        label="Créer les référents inconnus",
        required=False,
        help_text="Sinon, un référent absent du PLIE rend la ligne invalide : importez d’abord le fichier des référents.",
    )

    def clean_files(self):
        files = self.cleaned_data["files"]
        for upload in files:
            if upload.size > max_bytes():
                raise forms.ValidationError(
                    f"« {upload.name} » dépasse la taille maximale de {max_bytes() // 1024 // 1024} Mo."
                )
        return files


class MappingForm(forms.Form):
    """For one file: what each header the application did not recognise stands for."""

    def __init__(self, *args, import_file, **kwargs):
        super().__init__(*args, **kwargs)
        self.import_file = import_file
        report = import_file.report
        taken = {m["column"] for m in report.get("matched", [])}
        choices = [("", "— ignorer cette colonne —")] + [
            (c.name, f"{c.name}{' (obligatoire)' if c.required else ''}")
            for c in COLUMNS[import_file.kind]
            if c.name not in taken
        ]
        for index, header in enumerate(report.get("ignored", [])):
            self.fields[f"h{index}"] = forms.ChoiceField(label=header, choices=choices, required=False)

    def mappings(self):
        headers = self.import_file.report.get("ignored", [])
        return [(headers[int(name[1:])], column) for name, column in self.cleaned_data.items() if column]

    def clean(self):
        chosen = [column for column in self.cleaned_data.values() if column]
        if len(chosen) != len(set(chosen)):
            raise forms.ValidationError("Une colonne attendue ne peut correspondre qu’à un seul en-tête.")
        return self.cleaned_data
