"""Builders for tests (the scope matrix and the registry's own): donors, searches and pending
contact requests in a place, each with a fresh valid ID number."""

import itertools

from sunshine.core.validators import id_check_char

_seq = itertools.count(1)


def id_number(birth: str = "19880808") -> str:
    body = f"980101{birth}{next(_seq) % 1000:03d}"
    return body + id_check_char(body)


def donor(place, *, abo="O", rhd="neg", name="测试志愿者", mobile="13700000001", actor=None, **kw):
    from sunshine.rhregistry import rules, services

    return services.donor_register(
        actor=actor,
        name=name,
        id_number=kw.pop("id_number", None) or id_number(),
        mobile=mobile,
        abo=abo,
        rhd=rhd,
        place=place,
        consent=True,
        consent_scope=kw.pop("consent_scope", [rules.EMERGENCY]),
        **kw,
    )


def search(actor, place, *, patient_abo="O", patient_rhd="neg"):
    from sunshine.rhregistry import services

    found, _ = services.donor_search(
        actor=actor,
        patient_abo=patient_abo,
        patient_rhd=patient_rhd,
        place=place,
        hospital="县人民医院",
        contact_phone="0000-12345",
        patient_ref="内科3床",
    )
    return found


def pending_request(actor, place):
    """A fresh donor in `place`, a search that finds them, and a pending contact request."""
    from sunshine.rhregistry import services

    d = donor(place)
    s = search(actor, place)
    (req,) = services.contact_request(actor=actor, search=s, donor_ids=[d.pk])
    return req
