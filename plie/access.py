"""Every view reaches tenant data through these helpers: outside the user's PLIEs, 404; read-only roles, 403."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import EDITOR_ROLES, Membership, Role


def memberships_of(user):
    """The user's memberships, fetched once per request and cached on the user object."""
    if not user.is_authenticated:
        return {}
    if not hasattr(user, "_plie_memberships"):
        user._plie_memberships = {
            m.plie_id: m for m in Membership.objects.filter(user=user).select_related("plie").order_by("plie__name")
        }
    return user._plie_memberships


def role_in(user, plie):
    membership = memberships_of(user).get(plie.pk if hasattr(plie, "pk") else plie)
    return membership.role if membership else None


def can_edit(user, plie):
    return role_in(user, plie) in EDITOR_ROLES


def get_or_404(queryset, **lookup):
    """get_object_or_404, and 404 too for an id that is not one (`?operation=abc`): a typo is no server error."""
    try:
        return get_object_or_404(queryset, **lookup)
    except (ValueError, TypeError, ValidationError) as error:
        raise Http404("Identifiant invalide.") from error


def get_for_user(queryset, user, **lookup):
    """The object of `queryset` matching `lookup` within the user's PLIEs, or 404."""
    return get_or_404(queryset.for_user(user), **lookup)


# Said to whoever only opened an edit page as much as to whoever sent changes: the page exists to change the object.
EDIT_REFUSED = "Cette page sert à modifier cet élément, ce que votre rôle dans ce PLIE ne permet pas."


def get_for_edit(queryset, user, plie_of=lambda obj: obj.plie, **lookup):
    """As get_for_user, then 403 unless the user may edit in that object's PLIE."""
    obj = get_for_user(queryset, user, **lookup)
    if not can_edit(user, plie_of(obj)):
        raise PermissionDenied(EDIT_REFUSED)
    return obj


def require_editor(user, plie):
    if not can_edit(user, plie):
        raise PermissionDenied(EDIT_REFUSED)


def require_admin(user, plie, refusal):
    """403 unless the user is the administrator of that PLIE; `refusal` says, in French, what is reserved."""
    if role_in(user, plie) != Role.ADMIN:
        raise PermissionDenied(refusal)
