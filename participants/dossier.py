"""Sections that higher apps add to a participant's page (the agenda: the person's appointments). They register when
they start (their AppConfig.ready), so that this app never imports them (the layering contract in pyproject.toml)."""

_SECTIONS = {}


def register(name, template, context):
    """`context(request, participant)` returns the section's variables, scoped to the user; `template` shows them."""
    _SECTIONS[name] = (template, context)


def sections(request, participant):
    return [{"template": template, **context(request, participant)} for template, context in _SECTIONS.values()]
