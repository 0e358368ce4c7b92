"""The validation grid of a PLIE in memory: which rule judges a step, without a query per step."""

import bisect

from .models import GridRule, GridVersion


class Grid:
    def __init__(self, plie):
        self.versions = list(GridVersion.objects.filter(plie=plie).order_by("approved_on"))
        self.dates = [version.approved_on for version in self.versions]
        self.rules = {
            (rule.version_id, rule.step_type_id): rule
            for rule in GridRule.objects.filter(version__plie=plie).select_related("step_type")
        }

    def version_on(self, day):
        index = bisect.bisect_right(self.dates, day)
        return self.versions[index - 1] if index else None

    def rule_for(self, step):
        version = self.version_on(step.start)
        return self.rules.get((version.pk, step.step_type_id)) if version else None

    def current(self, today):
        return self.version_on(today)
