import pytest

from sunshine.core.errors import ServiceError
from sunshine.core.models import AuditEntry
from sunshine.messaging.models import Message
from sunshine.rhregistry import rules, selectors, services
from sunshine.rhregistry import testing as rh
from sunshine.rhregistry.models import ContactRequest, Donor

pytestmark = pytest.mark.django_db


def _register(world, **kw):
    data = {
        "actor": None,
        "name": "张小明",
        "id_number": rh.id_number(),
        "mobile": "13711112222",
        "abo": "O",
        "place": world.village,
        "consent": True,
        "consent_scope": [rules.EMERGENCY],
    }
    data.update(kw)
    return services.donor_register(**data)


def _contact_sms():
    return Message.objects.filter(programme="rhregistry", source__startswith="rhregistry:request:")


class TestDonorRegister:
    def test_invisible_characters_are_stripped_from_the_name(self, world):
        donor = _register(world, name="\u202e张\ufeff小明\u200d")
        assert donor.name == "张小明"

    def test_records_consent_time_scope_and_version(self, world):
        d = _register(world, consent_scope=[rules.EMERGENCY, rules.ACTIVITIES])
        assert d.consent_at is not None and d.consent_text_version == rules.CONSENT_VERSION
        assert d.consent_scope == [rules.EMERGENCY, rules.ACTIVITIES]
        assert d.channel == Donor.ONLINE and d.registered_by is None
        assert d.birth_date.year == 1988 and d.sex in ("M", "F")
        entry = AuditEntry.objects.get(action="rhdonor.register", object_id=str(d.pk))
        assert entry.changes["consent_scope"] == [rules.EMERGENCY, rules.ACTIVITIES]
        assert "张小明" not in entry.object_repr  # the audit log shows a masked name

    def test_consent_is_required(self, world):
        with pytest.raises(ServiceError) as exc:
            _register(world, consent=False)
        assert exc.value.field == "consent" and "同意" in exc.value.message
        assert not Donor.objects.exists()

    def test_a_scope_is_required(self, world):
        with pytest.raises(ServiceError) as exc:
            _register(world, consent_scope=[])
        assert exc.value.field == "consent_scope"
        with pytest.raises(ServiceError):
            _register(world, consent_scope=["marketing"])

    @pytest.mark.parametrize(
        ("field", "value", "words"),
        [
            ("id_number", "12345", "18位"),
            ("id_number", "980101199001010010", "校验位"),
            ("mobile", "1234", "手机号码"),
            ("abo", "", "ABO血型"),
            ("abo", "C", "ABO血型"),
            ("name", " ", "姓名"),
            ("place", None, "村"),
        ],
    )
    def test_bad_input_gets_a_chinese_message(self, world, field, value, words):
        if field == "id_number" and value.startswith("98"):
            value = value[:17] + ("1" if rh.id_number()[17] != "1" else "2")
        with pytest.raises(ServiceError) as exc:
            _register(world, **{field: value})
        assert words in exc.value.message and exc.value.field == field

    def test_a_duplicate_active_registration_is_refused(self, world):
        d = _register(world, id_number="98010119900101005X")
        with pytest.raises(services.DuplicateDonor) as exc:
            _register(world, id_number=d.id_number.lower())
        assert "已登记" in exc.value.message and exc.value.donor_id == d.pk
        assert Donor.objects.count() == 1

    def test_staff_registration_outside_write_scope_is_refused(self, world):
        with pytest.raises(ServiceError) as exc:
            _register(world, actor=world.users["clinic_doctor"], place=world.other_village)
        assert "管辖范围" in exc.value.message
        d = _register(world, actor=world.users["clinic_doctor"])
        assert d.channel == Donor.STAFF and d.registered_by == world.users["clinic_doctor"]

    def test_join_sms_is_queued_without_a_place(self, world):
        d = _register(world)
        msg = Message.objects.get(source=f"rhregistry:donor:{d.pk}:join")
        assert msg.place_path == "" and msg.mobile == d.mobile


ID_OK = "98010119900101005X"


class TestDonorWithdraw:
    def test_withdrawal_erases_identity_and_removes_from_search_and_lists(self, world):
        clerk = world.users["county_clerk"]
        d = rh.donor(world.village)
        assert [x.pk for x in services.donor_search(**_search_args(clerk, world.town))[1]] == [d.pk]
        services.donor_withdraw(actor=None, donor=d, reason="不想参加了")
        d.refresh_from_db()
        assert not d.is_active and d.withdrawn_at is not None
        assert (d.name, d.id_number, d.mobile, d.birth_date) == ("", "", "", None)
        assert services.donor_search(**_search_args(clerk, world.town))[1] == []
        assert not selectors.donor_list_for_actor(clerk).exists()
        assert selectors.donor_counts(clerk)["withdrawn"] == 1
        assert Message.objects.filter(source=f"rhregistry:donor:{d.pk}:withdraw").count() == 1

    def test_withdrawal_cancels_pending_requests(self, world):
        req = rh.pending_request(world.users["county_clerk"], world.village)
        services.donor_withdraw(actor=world.users["county_clerk"], donor=req.donor)
        req.refresh_from_db()
        assert req.status == ContactRequest.CANCELLED and "撤回" in req.cancel_reason
        with pytest.raises(ServiceError):
            services.contact_confirm(actor=world.users["county_clerk"], request=req)
        assert not _contact_sms().exists()

    def test_withdrawing_twice_is_refused(self, world):
        d = rh.donor(world.village)
        services.donor_withdraw(actor=None, donor=d)
        with pytest.raises(ServiceError) as exc:
            services.donor_withdraw(actor=None, donor=d)
        assert "已经撤回" in exc.value.message

    def test_public_withdrawal_needs_the_matching_pair(self, world):
        d = rh.donor(world.village, id_number=ID_OK, mobile="13722223333")
        assert services.donor_withdraw_public(id_number=ID_OK, mobile="13722224444") is False
        d.refresh_from_db()
        assert d.is_active
        assert services.donor_withdraw_public(id_number=ID_OK.lower(), mobile="13722223333")
        d.refresh_from_db()
        assert not d.is_active

    def test_the_same_person_may_register_again_after_withdrawing(self, world):
        d = rh.donor(world.village, id_number=ID_OK)
        services.donor_withdraw(actor=None, donor=d)
        again = rh.donor(world.village, id_number=ID_OK)
        assert again.pk != d.pk and again.is_active


def _search_args(actor, place, **kw):
    args = {
        "actor": actor,
        "patient_abo": "O",
        "patient_rhd": rules.NEG,
        "place": place,
        "hospital": "县人民医院",
        "contact_phone": "0000-12345",
        "patient_ref": "内科3床",
    }
    args.update(kw)
    return args


class TestDonorSearch:
    def test_finds_compatible_consenting_donors_nearest_first(self, world):
        clerk = world.users["county_clerk"]
        other_village = world.place("980101100002")
        far = rh.donor(other_village, abo="O")
        near = rh.donor(world.village, abo="O")
        rh.donor(world.village, abo="A")  # incompatible with an O patient
        rh.donor(world.village, abo="O", rhd=rules.WEAK)  # counts as RhD-positive
        rh.donor(world.village, abo="O", consent_scope=[rules.ACTIVITIES])  # no emergency
        other_town = rh.donor(world.other_village, abo="O")
        search, donors = services.donor_search(
            **_search_args(clerk, world.county, near=world.village)
        )
        assert [d.pk for d in donors] == [near.pk, far.pk, other_town.pk]
        assert search.result_count == 3 and search.donor_ids == [near.pk, far.pk, other_town.pk]
        entry = AuditEntry.objects.get(action="rhsearch.create")
        assert entry.sensitive and entry.changes["count"] == 3

    def test_ab_negative_patient_gets_every_abo(self, world):
        for abo in ("A", "B", "O", "AB"):
            rh.donor(world.village, abo=abo)
        _, donors = services.donor_search(
            **_search_args(world.users["county_clerk"], world.town, patient_abo="AB")
        )
        assert sorted(d.abo for d in donors) == ["A", "AB", "B", "O"]

    def test_search_stays_within_the_actor_scope(self, world):
        rh.donor(world.other_village)
        doctor = world.users["clinic_doctor"]  # scoped to town A
        with pytest.raises(ServiceError) as exc:
            services.donor_search(**_search_args(doctor, world.other_town))
        assert "管辖范围" in exc.value.message
        with pytest.raises(ServiceError):
            services.donor_search(**_search_args(doctor, world.county))
        _, donors = services.donor_search(**_search_args(doctor, world.town))
        assert donors == []

    def test_county_clerk_of_another_county_finds_nobody_here(self, world):
        from sunshine.accounts import roles
        from sunshine.accounts import services as account_services

        rh.donor(world.village)
        clerk_b = account_services.user_create(
            actor=None,
            username="clerk_b",
            password="x-pass-2026",
            role=roles.COUNTY_CLERK,
            place=world.other_county,
            full_name="乙县专干",
        )
        with pytest.raises(ServiceError):
            services.donor_search(**_search_args(clerk_b, world.county))
        _, donors = services.donor_search(**_search_args(clerk_b, world.other_county))
        assert donors == []

    @pytest.mark.parametrize(
        ("kw", "field"),
        [
            ({"patient_abo": "X"}, "patient_abo"),
            ({"patient_rhd": ""}, "patient_rhd"),
            ({"hospital": " "}, "hospital"),
            ({"patient_ref": ""}, "patient_ref"),
            ({"contact_phone": "call me"}, "contact_phone"),
            ({"place": None}, "place"),
        ],
    )
    def test_bad_search_input(self, world, kw, field):
        args = {**_search_args(world.users["county_clerk"], world.town), **kw}
        with pytest.raises(ServiceError) as exc:
            services.donor_search(**args)
        assert exc.value.field == field


class TestContact:
    def test_no_sms_before_confirmation_and_exactly_one_after(self, world):
        clerk, doctor = world.users["county_clerk"], world.users["clinic_doctor"]
        d = rh.donor(world.village, mobile="13755556666")
        search, _ = services.donor_search(**_search_args(doctor, world.town))
        (req,) = services.contact_request(actor=doctor, search=search, donor_ids=[d.pk])
        assert req.status == ContactRequest.PENDING and not _contact_sms().exists()
        services.contact_confirm(actor=clerk, request=req)
        req.refresh_from_db()
        assert req.status == ContactRequest.SENT and req.confirmed_by == clerk
        (msg,) = _contact_sms()
        assert msg.mobile == "13755556666" and msg.place_path == ""
        assert "县人民医院" in msg.body and "内科3床" not in msg.body and "自愿" in msg.body
        assert d.name not in msg.body
        with pytest.raises(ServiceError) as exc:
            services.contact_confirm(actor=clerk, request=req)
        assert "不会重复" in exc.value.message
        assert _contact_sms().count() == 1
        d.refresh_from_db()
        assert d.last_contacted_at is not None

    def test_the_requester_may_confirm_in_a_second_step_and_the_audit_says_so(self, world):
        doctor = world.users["clinic_doctor"]
        req = rh.pending_request(doctor, world.village)
        services.contact_confirm(actor=doctor, request=req)
        entry = AuditEntry.objects.get(action="rhrequest.confirm")
        assert entry.changes["self_confirmed"] is True

    def test_only_donors_of_the_search_may_be_requested(self, world):
        clerk = world.users["county_clerk"]
        stranger = rh.donor(world.village, abo="A")
        search, _ = services.donor_search(**_search_args(clerk, world.town))
        with pytest.raises(ServiceError) as exc:
            services.contact_request(actor=clerk, search=search, donor_ids=[stranger.pk])
        assert "本次查询" in exc.value.message
        with pytest.raises(ServiceError):
            services.contact_request(actor=clerk, search=search, donor_ids=[])

    def test_requesting_twice_makes_one_request(self, world):
        clerk = world.users["county_clerk"]
        d = rh.donor(world.village)
        search, _ = services.donor_search(**_search_args(clerk, world.town))
        services.contact_request(actor=clerk, search=search, donor_ids=[d.pk])
        assert services.contact_request(actor=clerk, search=search, donor_ids=[d.pk]) == []
        assert ContactRequest.objects.count() == 1

    def test_cancel_stops_the_sms(self, world):
        clerk = world.users["county_clerk"]
        req = rh.pending_request(clerk, world.village)
        services.contact_cancel(actor=clerk, request=req)
        with pytest.raises(ServiceError) as exc:
            services.contact_confirm(actor=clerk, request=req)
        assert "取消" in exc.value.message
        assert not _contact_sms().exists()

    def test_confirm_outside_scope_is_refused(self, world):
        req = rh.pending_request(world.users["county_clerk"], world.other_village)
        with pytest.raises(ServiceError):
            services.contact_confirm(actor=world.users["clinic_doctor"], request=req)
        assert not _contact_sms().exists()
