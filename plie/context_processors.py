from .access import memberships_of
from .models import EDITOR_ROLES


def current_plie(request):
    user = getattr(request, "user", None)
    role = getattr(request, "role", None)
    return {
        "current_plie": getattr(request, "plie", None),
        "current_role": role,
        "is_editor": role in EDITOR_ROLES,
        "my_memberships": list(memberships_of(user).values()) if user else [],
        # what was typed before the session expired, put back in the form by static/js/drafts.js
        "kept_post": getattr(request, "kept_post", None),
    }
