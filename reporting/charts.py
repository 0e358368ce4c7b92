"""Charts as SVG drawn on the server: served to the page as <img> (a strict CSP blocks inline styles) and
inlined in the PDF, so that both look the same."""

import io

import matplotlib

matplotlib.use("Agg")

from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from plie.formats import french_number, percent_of  # noqa: E402

plt.rcParams.update(
    {
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "svg.fonttype": "none",
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)

BLUE, GREEN, ORANGE, GREY = "#0d6efd", "#198754", "#fd7e14", "#adb5bd"


def _svg(figure, prefix):
    """The SVG element, its ids prefixed so that two charts inlined in one PDF never share an anchor."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    return (
        svg.replace('id="', f'id="{prefix}-')
        .replace('href="#', f'href="#{prefix}-')
        .replace("url(#", f"url(#{prefix}-")
    )


def targets_chart(lines):
    """Result against target for each counted target (flows and stocks), as % of the target."""
    rows = [
        line
        for line in lines
        if line.goal is not None and isinstance(line.result, int | float) and float(line.goal.low) > 0
    ]
    figure = Figure(figsize=(7, 0.45 * max(len(rows), 1) + 0.8))
    axes = figure.subplots()
    labels = [str(line.target.get_kind_display()) for line in rows]
    values = [min(percent_of(line.result / float(line.goal.low)), 200) for line in rows]
    colors = [
        GREEN if line.status in ("reached", "within", "above") else ORANGE if line.status == "on_track" else BLUE
        for line in rows
    ]
    axes.barh(range(len(rows)), values, color=colors)
    axes.set_yticks(range(len(rows)), labels)
    axes.axvline(100, color="#212529", linewidth=1, linestyle="--")
    axes.invert_yaxis()
    axes.set_xlabel("Résultat en % de l’objectif de la période")
    for index, value in enumerate(values):
        axes.text(value + 2, index, f"{french_number(round(value))} %", va="center")
    axes.set_xlim(0, max([120, *[v + 25 for v in values]]))
    if not rows:
        axes.text(0.5, 0.5, "Aucun objectif chiffré à comparer", transform=axes.transAxes, ha="center")
        axes.set_yticks([])
    return _svg(figure, "targets")


def monthly_chart(months):
    """File active at the end of each month: `months` is a list of (date, count); a withheld count is no bar but
    « < 5 »."""
    figure = Figure(figsize=(7, 2.6))
    axes = figure.subplots()
    positions = range(len(months))
    shown = [count if isinstance(count, int) else 0 for _, count in months]
    axes.bar(positions, shown, color=BLUE)
    for position, (_, count) in zip(positions, months, strict=True):
        if not isinstance(count, int):
            axes.text(position, 0, str(count), ha="center", va="bottom", fontsize=7, color=GREY)
    axes.set_xticks(positions, [f"{day:%m/%Y}" for day, _ in months], rotation=45, ha="right")
    axes.set_ylabel("Parcours actifs en fin de mois")
    return _svg(figure, "monthly")
