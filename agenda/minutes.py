from plie.pdf import render_pdf


def render_minutes_pdf(session, rows, *, by):
    return render_pdf(
        "agenda/session_minutes.html", {"plie": session.plie, "session": session, "rows": rows, "printed_by": by}
    )
