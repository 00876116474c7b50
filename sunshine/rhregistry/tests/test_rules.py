"""The red-cell compatibility table, written out by hand (all 8 × 8 ABO/RhD combinations)."""

import itertools

import pytest

from sunshine.rhregistry import rules

TYPES = [f"{abo}{sign}" for abo in ("O", "A", "B", "AB") for sign in ("-", "+")]
# Recipient → donors whose red cells it may receive (DOMAIN 'Rh-negative blood').
TABLE = {
    "O-": {"O-"},
    "O+": {"O-", "O+"},
    "A-": {"A-", "O-"},
    "A+": {"A-", "A+", "O-", "O+"},
    "B-": {"B-", "O-"},
    "B+": {"B-", "B+", "O-", "O+"},
    "AB-": {"AB-", "A-", "B-", "O-"},
    "AB+": set(TYPES),
}


def _split(t):
    return t[:-1], rules.NEG if t[-1] == "-" else rules.POS


@pytest.mark.parametrize(("donor", "recipient"), list(itertools.product(TYPES, TYPES)))
def test_compatibility_table(donor, recipient):
    d_abo, d_rhd = _split(donor)
    r_abo, r_rhd = _split(recipient)
    assert rules.compatible(d_abo, d_rhd, r_abo, r_rhd) is (donor in TABLE[recipient])


def test_the_table_has_64_cells_and_27_compatible_pairs():
    pairs = list(itertools.product(TYPES, TYPES))
    assert len(pairs) == 64
    assert sum(rules.compatible(*_split(d), *_split(r)) for d, r in pairs) == 27


@pytest.mark.parametrize(
    ("recipient", "donors"),
    [("O", {"O"}), ("A", {"A", "O"}), ("B", {"B", "O"}), ("AB", {"A", "B", "O", "AB"})],
)
def test_compatible_donor_abo(recipient, donors):
    assert rules.compatible_donor_abo(recipient) == donors


def test_weak_d_donor_counts_as_positive_for_a_negative_recipient():
    assert not rules.compatible("O", rules.WEAK, "O", rules.NEG)
    assert rules.compatible("O", rules.WEAK, "O", rules.POS)
    assert rules.donor_rhd_for(rules.NEG) == {rules.NEG}
    assert rules.donor_rhd_for(rules.POS) == {rules.NEG, rules.WEAK}


def test_nearness_ranks_same_village_before_same_town_before_county():
    near = ["980101100001", "980101100", "980101"]
    assert rules.nearness("980101100001", near) == 0
    assert rules.nearness("980101100001001", near) == 0
    assert rules.nearness("980101100002", near) == 1
    assert rules.nearness("980101101001", near) == 2
    assert rules.nearness("980102100001", near) == 3


def test_contact_sms_names_no_patient_and_says_voluntary():
    text = rules.contact_sms(
        hospital="县人民医院", patient_abo="A", patient_rhd=rules.NEG, phone="0000-1"
    )
    assert "县人民医院" in text and "Rh阴性A型" in text and "0000-1" in text
    assert "自愿" in text
