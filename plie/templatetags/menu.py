"""The menu says where the user is: `aria-current="page"` on the link to the page shown."""

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def menu_link(context, url_name, label, css="nav-link"):
    try:
        url = reverse(url_name)
    except NoReverseMatch:
        return ""
    request = context.get("request")
    if request is not None and request.path == url:
        return format_html('<a class="{} active" href="{}" aria-current="page">{}</a>', css, url, label)
    return format_html('<a class="{}" href="{}">{}</a>', css, url, label)


@register.simple_tag(takes_context=True)
def menu_group_active(context, *url_names):
    """ " active" on a dropdown's toggle when the page shown is one of its entries."""
    request = context.get("request")
    paths = set()
    for name in url_names:
        try:
            paths.add(reverse(name))
        except NoReverseMatch:
            continue
    return " active" if request is not None and request.path in paths else ""
