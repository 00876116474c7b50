from django import template

from sunshine.core import masking

register = template.Library()


@register.filter
def mask_name(value):
    return masking.mask_name(value)


@register.filter
def mask_id(value):
    return masking.mask_id_number(value)


@register.filter
def mask_mobile(value):
    return masking.mask_mobile(value)


@register.filter
def mask_identifiers(value):
    """Public text with any full ID or mobile number masked: the services store it masked
    already; this is the second lock, for rows written before that or around the services."""
    from sunshine.core import identifiers

    return identifiers.mask_text(value if isinstance(value, str) else str(value or ""))[0]
