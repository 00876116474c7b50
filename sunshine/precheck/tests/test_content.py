"""Articles, the public schedule and the towns' targets (sunshine/precheck/content.py)."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone
from openpyxl import Workbook

from sunshine.core.errors import ServiceError
from sunshine.core.models import AuditEntry
from sunshine.precheck import content, seed_articles
from sunshine.precheck.models import Article, Institution, Slot, Target

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


def make_institution(place, name=None, **kw):
    """An institution built directly (the institution services belong to the desk area)."""
    return Institution.objects.create(
        name=name or f"{place.name}卫生院",
        place=place,
        place_path=place.path,
        address=f"{place.name}人民路1号",
        phone=kw.pop("phone", "0000-1234"),
        hours=kw.pop("hours", "周二 8:00–11:00"),
        instructions=kw.pop("instructions", "空腹，携带夫妇双方身份证。"),
        **kw,
    )


def make_slot(inst, starts_at, *, capacity=10, booked=0, is_open=True):
    return Slot.objects.create(
        institution=inst,
        place_path=inst.place_path,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        capacity=capacity,
        booked=booked,
        is_open=is_open,
    )


def xlsx_upload(rows, name="targets.xlsx", headers=None):
    wb = Workbook()
    ws = wb.active
    ws.append(headers or content.TARGET_HEADERS)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile(name, buf.getvalue())


class TestArticleServices:
    def test_create_saves_a_draft_with_an_audit_row(self, world):
        clerk = world.users["county_clerk"]
        a = content.article_create(actor=clerk, kind="education", title=" 叶酸 ", body="每天吃")
        assert (a.title, a.is_published, a.published_at) == ("叶酸", False, None)
        assert AuditEntry.objects.filter(action="precheck.article.create", object_id=a.pk).exists()

    @pytest.mark.parametrize(
        ("kind", "title", "body", "field"),
        [
            ("news", "标题", "正文", "kind"),
            ("education", "  ", "正文", "title"),
            ("education", "标" * 101, "正文", "title"),
            ("education", "标题", "", "body"),
        ],
    )
    def test_bad_input_is_refused_in_chinese(self, world, kind, title, body, field):
        with pytest.raises(ServiceError) as exc:
            content.article_create(actor=None, kind=kind, title=title, body=body)
        assert exc.value.field == field and exc.value.message.endswith("。")
        assert not Article.objects.exists()

    def test_update_records_what_changed_and_nothing_when_unchanged(self, world):
        a = content.article_create(actor=None, kind="education", title="旧", body="正文")
        content.article_update(actor=None, article=a, kind="education", title="新", body="正文")
        entry = AuditEntry.objects.get(action="precheck.article.update")
        assert entry.changes == {"title": ["旧", "新"]}
        content.article_update(actor=None, article=a, kind="education", title="新", body="正文")
        assert AuditEntry.objects.filter(action="precheck.article.update").count() == 1

    def test_publish_and_unpublish_are_idempotent_and_audited(self, world):
        a = content.article_create(actor=None, kind="process", title="流程", body="登记")
        content.article_publish(actor=None, article=a, now=NOW)
        content.article_publish(actor=None, article=a)
        a.refresh_from_db()
        assert a.is_published and a.published_at == NOW
        assert AuditEntry.objects.filter(action="precheck.article.publish").count() == 1
        content.article_unpublish(actor=None, article=a)
        content.article_unpublish(actor=None, article=a)
        a.refresh_from_db()
        assert not a.is_published
        assert AuditEntry.objects.filter(action="precheck.article.unpublish").count() == 1

    def test_the_public_never_gets_an_unpublished_article(self, world):
        draft = content.article_create(actor=None, kind="education", title="草稿", body="x")
        shown = content.article_create(actor=None, kind="education", title="公开", body="x")
        content.article_publish(actor=None, article=shown)
        assert list(content.article_list_public()) == [shown]
        with pytest.raises(Http404):
            content.article_get_public(draft.pk)
        assert content.article_get_public(shown.pk) == shown


class TestArticlesEnsure:
    def test_loads_the_seed_articles_published_once(self, world):
        n = content.articles_ensure(now=NOW)
        assert n == len(seed_articles.ARTICLES) and 5 <= n <= 8
        assert Article.objects.filter(is_published=True).count() == n
        kinds = set(Article.objects.values_list("kind", flat=True))
        assert {"education", "process", "precautions"} <= kinds
        assert content.articles_ensure() == 0
        assert Article.objects.count() == n

    def test_leaves_a_countys_own_articles_alone(self, world):
        content.article_create(actor=None, kind="education", title="本县文章", body="x")
        assert content.articles_ensure() == 0
        assert Article.objects.count() == 1

    def test_seed_texts_carry_the_domain_facts(self):
        text = "".join(body for _, _, body in seed_articles.ARTICLES)
        for fact in ("0.4毫克", "3至6个月", "空腹", "月经", "身份证", "户口本", "结婚证", "72小时"):
            assert fact in text, fact


class TestArticleBlocks:
    def test_paragraphs_and_dot_lists(self):
        blocks = content.article_blocks("第一段\n续行\n\n· 甲\n· 乙\n结尾")
        assert [b["kind"] for b in blocks] == ["text", "list", "text"]
        assert blocks[0]["lines"] == ["第一段", "续行"]
        assert blocks[1]["items"] == ["甲", "乙"]

    def test_markup_is_kept_as_text(self):
        blocks = content.article_blocks("<script>alert(1)</script>")
        assert blocks == [{"kind": "text", "lines": ["<script>alert(1)</script>"], "open": False}]


class TestSchedulePublic:
    def test_lists_active_institutions_with_their_next_open_slots(self, world):
        inst = make_institution(world.town)
        make_institution(world.other_town, is_active=False)
        ok = make_slot(inst, NOW + dt.timedelta(days=1))
        make_slot(inst, NOW - dt.timedelta(hours=1))  # past
        make_slot(inst, NOW + dt.timedelta(days=2), capacity=5, booked=5)  # full
        make_slot(inst, NOW + dt.timedelta(days=3), is_open=False)  # closed
        make_slot(inst, NOW + dt.timedelta(days=20))  # beyond 14 days
        schedule = content.schedule_public(now=NOW)
        assert [e.institution for e in schedule] == [inst]
        assert schedule[0].slots == [ok] and schedule[0].more == 0

    def test_shows_a_few_slots_and_counts_the_rest(self, world):
        inst = make_institution(world.town)
        for h in range(content.SLOTS_SHOWN + 3):
            make_slot(inst, NOW + dt.timedelta(hours=h + 1))
        (entry,) = content.schedule_public(now=NOW)
        assert len(entry.slots) == content.SLOTS_SHOWN and entry.more == 3

    def test_query_count_does_not_grow_with_institutions(
        self, world, django_assert_max_num_queries
    ):
        for i in range(6):
            inst = make_institution(world.town, name=f"机构{i}")
            make_slot(inst, NOW + dt.timedelta(days=1))
        with django_assert_max_num_queries(2):
            schedule = content.schedule_public(now=NOW)
            assert sum(len(e.slots) for e in schedule) == 6


class TestTargetSet:
    def test_county_clerk_sets_and_changes_a_towns_target(self, world):
        clerk = world.users["county_clerk"]
        t = content.target_set(actor=clerk, place=world.town, year=2026, couples="120")
        assert (t.couples, t.place_path, t.year) == (120, world.town.path, 2026)
        content.target_set(actor=clerk, place=world.town, year=2026, couples=150)
        content.target_set(actor=clerk, place=world.town, year=2026, couples=150)
        assert Target.objects.get().couples == 150
        assert AuditEntry.objects.filter(action="precheck.target.set").count() == 2

    @pytest.mark.parametrize("couples", ["0", "-5", "12.5", "abc", "", "１２", "2000000"])
    def test_couples_must_be_a_positive_integer(self, world, couples):
        with pytest.raises(ServiceError) as exc:
            content.target_set(
                actor=world.users["county_clerk"], place=world.town, year=2026, couples=couples
            )
        assert exc.value.field == "couples"
        assert not Target.objects.exists()

    def test_only_towns_take_targets(self, world):
        with pytest.raises(ServiceError, match="乡镇"):
            content.target_set(
                actor=world.users["county_clerk"], place=world.village, year=2026, couples=10
            )

    def test_a_town_clerk_cannot_set_targets(self, world):
        with pytest.raises(ServiceError, match="县级"):
            content.target_set(
                actor=world.users["town_clerk"], place=world.town, year=2026, couples=10
            )

    def test_a_town_outside_the_write_scope_is_refused(self, world):
        with pytest.raises(ServiceError, match="管辖范围"):
            content.target_set(
                actor=world.users["county_clerk"],
                place=world.places["980102100000"],  # a town of the other county
                year=2026,
                couples=10,
            )

    @pytest.mark.parametrize("year", ["2009", "abcd", "3000"])
    def test_year_must_be_sensible(self, world, year):
        with pytest.raises(ServiceError) as exc:
            content.target_set(
                actor=world.users["county_clerk"], place=world.town, year=year, couples=10
            )
        assert exc.value.field == "year"


class TestTargetImport:
    def test_imports_every_row_and_skips_blank_targets(self, world):
        up = xlsx_upload(
            [
                [world.town.code, "本镇", 2026, 120],
                [world.other_town.code, "外镇", 2026, None],
            ]
        )
        result = content.target_import(actor=world.users["county_clerk"], upload=up)
        assert (result.saved, result.skipped, result.unchanged) == (1, 1, 0)
        assert Target.objects.get().couples == 120
        again = content.target_import(
            actor=world.users["county_clerk"],
            upload=xlsx_upload([[world.town.code, "本镇", 2026, 120]]),
        )
        assert (again.saved, again.unchanged) == (0, 1)

    def test_csv_in_gbk_is_read(self, world):
        text = f"乡镇编码,乡镇,年度,目标人群（对）\n{world.town.code},本镇,2026,88\n"
        up = SimpleUploadedFile("targets.csv", text.encode("gb18030"))
        content.target_import(actor=world.users["county_clerk"], upload=up)
        assert Target.objects.get().couples == 88

    def test_one_bad_row_saves_nothing_and_names_every_bad_row(self, world):
        up = xlsx_upload(
            [
                [world.town.code, "本镇", 2026, 120],
                [world.other_town.code, "外镇", 2026, -3],
                ["999999999999", "无", 2026, 10],
                [world.village.code, "村", 2026, 10],
                [world.town.code, "本镇", 2026, 130],
            ]
        )
        with pytest.raises(ServiceError) as exc:
            content.target_import(actor=world.users["county_clerk"], upload=up)
        msg = exc.value.message
        assert "没有导入任何数据" in msg
        for row in ("第3行", "第4行", "第5行", "第6行"):
            assert row in msg
        assert "第2行：" not in msg and "与第2行重复" in msg
        assert [row for row, _ in exc.value.errors] == ["第3行", "第4行", "第5行", "第6行"]
        assert not Target.objects.exists()

    @pytest.mark.parametrize(
        ("name", "data", "expect"),
        [
            ("t.xlsx", b"PK\x03\x04 not really a zip", "损坏"),
            ("t.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100, ".xls"),
            ("t.csv", b"", "空"),
            ("t.png", b"\x89PNG\r\n\x1a\n\0\0\0", "表格"),
        ],
    )
    def test_a_malformed_file_gets_a_chinese_message(self, world, name, data, expect):
        with pytest.raises(ServiceError) as exc:
            content.target_import(
                actor=world.users["county_clerk"], upload=SimpleUploadedFile(name, data)
            )
        assert expect in exc.value.message
        assert not Target.objects.exists()

    def test_missing_columns_are_named(self, world):
        up = xlsx_upload([["x", 1]], headers=["乡镇", "人数"])
        with pytest.raises(ServiceError, match="缺少必需的列"):
            content.target_import(actor=world.users["county_clerk"], upload=up)

    def test_a_town_clerk_cannot_import(self, world):
        up = xlsx_upload([[world.town.code, "本镇", 2026, 120]])
        with pytest.raises(ServiceError, match="县级"):
            content.target_import(actor=world.users["town_clerk"], upload=up)


class TestTargetTable:
    def test_town_clerk_sees_only_their_town(self, world):
        clerk = world.users["county_clerk"]
        content.target_set(actor=clerk, place=world.town, year=2026, couples=100)
        content.target_set(actor=clerk, place=world.other_town, year=2026, couples=50)
        rows = content.target_table_for_actor(world.users["town_clerk"], years=[2025, 2026])
        assert [(r.town, r.cells) for r in rows] == [(world.town, [None, 100])]
        county_rows = content.target_table_for_actor(clerk, years=[2026])
        assert [r.cells for r in county_rows] == [[100], [50]]

    def test_year_options_start_with_next_year(self):
        now = timezone.make_aware(dt.datetime(2026, 6, 1))
        assert content.year_options(now)[:2] == [2027, 2026]
        assert content.year_options(now)[-1] == content.FIRST_YEAR
