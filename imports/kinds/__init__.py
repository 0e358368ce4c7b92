"""One importer per kind of extract, each in its own module: load what is stored, check the rows, plan, write."""

from ..columns import Kind
from .entretiens import EntretiensImporter
from .participants import ParticipantsImporter
from .referents import ReferentsImporter
from .steps import StepsImporter

IMPORTERS = {
    Kind.PARTICIPANTS: ParticipantsImporter,
    Kind.STEPS: StepsImporter,
    Kind.ENTRETIENS: EntretiensImporter,
    Kind.REFERENTS: ReferentsImporter,
}
