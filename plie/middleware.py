from .access import memberships_of

SESSION_KEY = "current_plie_id"


class CurrentPlieMiddleware:
    """Puts the PLIE the user is working in on `request.plie` (and their role on `request.role`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.plie = request.role = None
        memberships = memberships_of(request.user)
        if memberships:
            current = memberships.get(request.session.get(SESSION_KEY)) or next(iter(memberships.values()))
            request.plie, request.role = current.plie, current.role
        return self.get_response(request)
