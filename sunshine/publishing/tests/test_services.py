"""Every write of the publication pipeline: each transition allowed and refused (in Chinese),
the four-eyes rule, scheduled publication and expiry, notices, objections, attachments,
categories, and the generation counter that tells cached boards they are stale."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from sunshine.core.errors import ServiceError
from sunshine.core.models import AuditEntry
from sunshine.publishing import rules, selectors, services
from sunshine.publishing.models import Attachment, Category, Item, ListEntry, Objection

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def category(code: str) -> Category:
    return Category.objects.get(code=code)


def draft(world, *, actor_key="town_clerk", place=None, code="procedures", **kw) -> Item:
    return services.item_create(
        actor=world.users[actor_key],
        category=category(code),
        place=place or world.town,
        title=kw.pop("title", "生育登记办事指南"),
        **kw,
    )


def in_review(world, **kw) -> Item:
    item = draft(world, **kw)
    return services.item_submit(actor=item.created_by, item=item)


def published(world, *, now=NOW, **kw) -> Item:
    item = in_review(world, **kw)
    return services.item_publish(actor=world.users["county_clerk"], item=item, now=now)


def notice(world, *, now=NOW, **kw) -> Item:
    kw.setdefault("code", "reward-assistance")
    kw.setdefault("place", world.village)
    kw.setdefault("title", "2026年奖励扶助对象公示")
    return published(world, now=now, **kw)


def generation() -> int:
    return selectors.generation()


def refused(message: str):
    return pytest.raises(ServiceError, match=f"^{message}$")


def upload(content: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def actions(item) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_type="publishing.item", object_id=str(item.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


class TestItemCreate:
    def test_a_clerk_creates_a_draft_with_its_first_version_and_an_audit_row(self, world):
        item = draft(world, summary=" 摘要 ", body="正文\n第二段", levels=["village", "group"])
        item.refresh_from_db()
        assert (item.status, item.kind, item.place_path) == (
            rules.DRAFT,
            rules.KIND_DISCLOSURE,
            world.town.path,
        )
        assert item.target_levels == ",village,group," and item.levels == ["village", "group"]
        v = item.current
        assert (v.number, v.title, v.summary, v.body) == (
            1,
            "生育登记办事指南",
            "摘要",
            "正文\n第二段",
        )
        assert v.published_at is None and item.created_by == world.users["town_clerk"]
        entry = AuditEntry.objects.get(action="item.create")
        assert entry.place_path == world.town.path and entry.changes["levels"] == ",village,group,"

    def test_a_notice_category_makes_a_notice(self, world):
        item = draft(world, code="reward-assistance")
        assert item.kind == rules.KIND_NOTICE and item.is_notice

    def test_a_statement_needs_a_spokesperson(self, world):
        with refused("发言人声明须写明发言人。") as exc:
            draft(world, code="spokesperson", kind=rules.KIND_STATEMENT)
        assert exc.value.field == "spokesperson"

    def test_a_statement_keeps_its_spokesperson(self, world):
        item = draft(
            world, code="spokesperson", kind=rules.KIND_STATEMENT, spokesperson=" 新闻发言人 "
        )
        assert (item.kind, item.spokesperson) == (rules.KIND_STATEMENT, "新闻发言人")

    def test_a_place_outside_the_capture_scope_is_refused(self, world):
        with refused("只能在您管辖的地方发布。") as exc:
            draft(world, place=world.other_town)
        assert exc.value.field == "place" and not Item.objects.exists()

    def test_an_empty_title_is_refused(self, world):
        with refused("标题不能为空。"):
            draft(world, title="   ")

    def test_expiry_before_the_planned_time_is_refused(self, world):
        with refused("下架时间应晚于发布时间。"):
            draft(world, publish_at=NOW, expires_at=NOW - dt.timedelta(hours=1))

    def test_a_role_without_drafting_is_refused(self, world):
        with refused("您的角色不能进行这个操作。"):
            draft(world, actor_key="county_admin", place=world.county)

    def test_a_village_cannot_target_the_town_level(self, world):
        with refused("本镇一村（村（社区））只能向本级及以下层级同步公开。") as exc:
            draft(world, place=world.village, levels=["town", "village"])
        assert exc.value.field == "levels" and not Item.objects.exists()

    def test_the_table_is_trimmed_to_its_headers(self, world):
        table = {"headers": ["姓名", "金额"], "rows": [["张三", "960", "多余"]]}
        item = draft(world, table=table)
        assert item.current.table == {"headers": ["姓名", "金额"], "rows": [["张三", "960"]]}

    def test_a_table_without_headers_is_dropped(self, world):
        item = draft(world, table={"headers": [], "rows": [["a"]]})
        assert item.current.table == {}

    def test_invisible_characters_are_stripped_from_title_summary_body_and_table(self, world):
        # "\u202e" reverses what follows on screen: a title could show one thing and say another.
        item = draft(
            world,
            title="\u202e关于\u200b张三的公示\u2066",
            summary="摘要\u200d第一句\r\n第二句\x07",
            body="第一段\u202d\r\n\r\n\t第二段\ufeff",
            spokesperson="",
            table={"headers": ["姓\u200b名", "金额"], "rows": [["\u202e张三", "9\u200c60"]]},
        )
        v = item.current
        assert (v.title, v.summary, v.body) == (
            "关于张三的公示",
            "摘要第一句\n第二句",
            "第一段\n\n\t第二段",
        )
        assert v.table == {"headers": ["姓名", "金额"], "rows": [["张三", "960"]]}

    def test_a_title_of_invisible_characters_only_is_empty(self, world):
        with refused("标题不能为空。"):
            draft(world, title="\u202e\u200b\u3164")


class TestItemUpdateDraft:
    def test_the_draft_text_levels_and_times_change_in_place(self, world):
        item = draft(world)
        services.item_update_draft(
            actor=world.users["town_clerk"],
            item=item,
            title="新标题",
            summary="新摘要",
            body="新正文",
            levels=["village"],
            publish_at=NOW,
            expires_at=NOW + dt.timedelta(days=30),
        )
        item.refresh_from_db()
        assert (item.current.title, item.current.number, item.target_levels) == (
            "新标题",
            1,
            ",village,",
        )
        assert item.publish_at == NOW and item.versions.count() == 1
        assert actions(item) == ["item.create", "item.update"]

    def test_an_item_under_review_cannot_be_edited(self, world):
        item = in_review(world)
        with refused("只有草稿可以修改。"):
            services.item_update_draft(actor=world.users["town_clerk"], item=item, title="改")

    def test_another_towns_clerk_cannot_edit(self, world):
        item = draft(world)
        with refused("这个事项不在您的管辖范围内。"):
            services.item_update_draft(actor=world.users["outsider"], item=item, title="改")

    def test_an_empty_title_is_refused_and_nothing_changes(self, world):
        item = draft(world)
        with refused("标题不能为空。"):
            services.item_update_draft(actor=world.users["town_clerk"], item=item, title=" ")
        item.current.refresh_from_db()
        assert item.current.title == "生育登记办事指南"

    def test_levels_are_checked_again(self, world):
        item = draft(world, place=world.village)
        with refused("本镇一村（村（社区））只能向本级及以下层级同步公开。"):
            services.item_update_draft(
                actor=world.users["town_clerk"], item=item, title="改", levels=["county"]
            )


class TestItemSubmit:
    def test_a_draft_goes_to_review(self, world):
        item = in_review(world)
        item.refresh_from_db()
        assert item.status == rules.REVIEW and actions(item)[-1] == "item.submit"

    def test_submitting_twice_is_refused(self, world):
        item = in_review(world)
        with refused("“待审核”的事项不能改为“待审核”。"):
            services.item_submit(actor=world.users["town_clerk"], item=item)

    def test_an_observer_cannot_submit(self, world):
        item = draft(world)
        with refused("您的角色不能进行这个操作。"):
            services.item_submit(actor=world.users["observer"], item=item)

    def test_another_towns_clerk_cannot_submit(self, world):
        item = draft(world)
        with refused("这个事项不在您的管辖范围内。"):
            services.item_submit(actor=world.users["outsider"], item=item)


class TestItemReturn:
    def test_the_reviewer_sends_it_back_with_a_note(self, world):
        item = in_review(world)
        services.item_return(actor=world.users["county_clerk"], item=item, note=" 请补充附件 ")
        item.refresh_from_db()
        assert (item.status, item.review_note) == (rules.DRAFT, "请补充附件")
        assert AuditEntry.objects.get(action="item.return").reason == "请补充附件"

    def test_a_note_is_required(self, world):
        item = in_review(world)
        with refused("退回时请写明修改意见。") as exc:
            services.item_return(actor=world.users["county_clerk"], item=item, note="  ")
        assert exc.value.field == "note"

    def test_a_draft_cannot_be_returned(self, world):
        with refused("“草稿”的事项不能改为“草稿”。"):
            services.item_return(actor=world.users["county_clerk"], item=draft(world), note="x")

    def test_a_town_clerk_cannot_return(self, world):
        item = in_review(world)
        with refused("您的角色不能进行这个操作。"):
            services.item_return(actor=world.users["town_clerk"], item=item, note="x")

    def test_a_returned_draft_can_be_edited_and_submitted_again(self, world):
        item = in_review(world)
        services.item_return(actor=world.users["county_clerk"], item=item, note="改标题")
        services.item_update_draft(actor=world.users["town_clerk"], item=item, title="改后")
        services.item_submit(actor=world.users["town_clerk"], item=item)
        item.refresh_from_db()
        assert item.status == rules.REVIEW and item.current.title == "改后"


class TestItemPublish:
    def test_the_reviewer_publishes_now_freezing_the_version(self, world):
        before = generation()
        item = published(world)
        item.refresh_from_db()
        assert (item.status, item.published_at, item.reviewed_by) == (
            rules.PUBLISHED,
            NOW,
            world.users["county_clerk"],
        )
        assert item.current.published_at == NOW and item.current.is_frozen
        assert item.notice_ends_at is None
        assert generation() == before + 1
        assert actions(item)[-1] == "item.publish"

    def test_the_drafter_cannot_review_their_own_item(self, world):
        item = in_review(world, actor_key="county_clerk", place=world.county)
        with refused("起草人不能审核自己起草的事项，请由另一位审核人发布。"):
            services.item_publish(actor=world.users["county_clerk"], item=item, now=NOW)
        item.refresh_from_db()
        assert item.status == rules.REVIEW

    def test_a_superuser_may_publish_what_they_drafted(self, world):
        item = in_review(world, actor_key="probe")
        item = services.item_publish(actor=world.users["probe"], item=item, now=NOW)
        assert item.status == rules.PUBLISHED

    def test_a_town_clerk_cannot_publish(self, world):
        item = in_review(world, actor_key="village_cadre", place=world.village)
        with refused("您的角色不能进行这个操作。"):
            services.item_publish(actor=world.users["town_clerk"], item=item, now=NOW)

    def test_a_draft_cannot_be_published_without_review(self, world):
        with refused("“草稿”的事项不能改为“已发布”。"):
            services.item_publish(actor=world.users["county_clerk"], item=draft(world), now=NOW)

    def test_publishing_twice_is_refused(self, world):
        item = published(world)
        with refused("“已发布”的事项不能改为“已发布”。"):
            services.item_publish(actor=world.users["county_admin"], item=item, now=NOW)

    def test_a_notice_gets_its_period_from_the_category(self, world):
        item = notice(world)
        assert item.notice_ends_at == rules.notice_ends(NOW, 7)
        assert item.notice_ends_at == dt.datetime(2026, 3, 9, 23, 59, 59, tzinfo=SHANGHAI)

    def test_the_period_ends_at_local_midnight_whatever_the_clocks_timezone(self, world):
        utc_now = dt.datetime(2026, 3, 2, 23, 30, tzinfo=dt.UTC)  # 07:30 on 3 March, Shanghai
        item = notice(world, now=utc_now)
        item.refresh_from_db()
        assert timezone.localtime(item.notice_ends_at) == dt.datetime(
            2026, 3, 10, 23, 59, 59, tzinfo=SHANGHAI
        )

    def test_a_planned_time_in_the_future_schedules_instead(self, world):
        before = generation()
        item = published(world, publish_at=NOW + dt.timedelta(days=1))
        item.refresh_from_db()
        assert item.status == rules.SCHEDULED and item.published_at is None
        assert item.current.published_at is None and generation() == before
        assert item.reviewed_by == world.users["county_clerk"]
        assert actions(item)[-1] == "item.schedule"

    def test_a_planned_time_already_past_publishes_at_once(self, world):
        item = published(world, publish_at=NOW - dt.timedelta(hours=1))
        assert item.status == rules.PUBLISHED and item.published_at == NOW

    def test_a_scheduled_item_can_be_published_early_by_the_reviewer(self, world):
        item = published(world, publish_at=NOW + dt.timedelta(days=1))
        item = services.item_publish(
            actor=world.users["county_clerk"], item=item, now=NOW + dt.timedelta(days=2)
        )
        assert item.status == rules.PUBLISHED


class TestItemsPublishDue:
    def test_a_scheduled_item_goes_live_when_its_time_comes(self, world):
        item = published(world, publish_at=NOW + dt.timedelta(hours=2))
        assert services.items_publish_due(now=NOW + dt.timedelta(hours=1)) == 0
        before = generation()
        assert services.items_publish_due(now=NOW + dt.timedelta(hours=2)) == 1
        item.refresh_from_db()
        assert item.status == rules.PUBLISHED
        assert item.published_at == NOW + dt.timedelta(hours=2)
        assert item.current.published_at == item.published_at
        assert generation() == before + 1
        assert actions(item)[-1] == "item.publish_scheduled"

    def test_a_scheduled_notice_starts_its_period_when_it_goes_live(self, world):
        later = NOW + dt.timedelta(days=3)
        item = notice(world, publish_at=later)
        services.items_publish_due(now=later)
        item.refresh_from_db()
        assert item.notice_ends_at == rules.notice_ends(later, 7)

    def test_an_item_past_its_expiry_is_archived(self, world):
        item = published(world, expires_at=NOW + dt.timedelta(days=30))
        assert services.items_publish_due(now=NOW + dt.timedelta(days=29)) == 0
        before = generation()
        assert services.items_publish_due(now=NOW + dt.timedelta(days=30)) == 1
        item.refresh_from_db()
        assert item.status == rules.ARCHIVED and actions(item)[-1] == "item.expire"
        assert generation() == before + 1

    def test_running_twice_changes_nothing_the_second_time(self, world):
        published(world, publish_at=NOW + dt.timedelta(hours=1))
        later = NOW + dt.timedelta(hours=1)
        assert services.items_publish_due(now=later) == 1
        before = generation()
        assert services.items_publish_due(now=later) == 0
        assert generation() == before

    def test_items_in_review_are_left_alone(self, world):
        item = in_review(world, publish_at=NOW)
        services.items_publish_due(now=NOW + dt.timedelta(days=1))
        item.refresh_from_db()
        assert item.status == rules.REVIEW


class TestItemCorrect:
    def _correct(self, world, item, **kw):
        args = {"title": "更正后的标题", "body": "更正后的正文", "change_note": "更正金额"}
        return services.item_correct(
            actor=world.users["county_clerk"],
            item=item,
            now=NOW + dt.timedelta(days=1),
            **{
                **args,
                **kw,
            },
        )

    def test_a_correction_is_a_new_published_version_and_the_old_one_stays(self, world):
        item = published(world, body="原正文")
        before = generation()
        v2 = self._correct(world, item)
        item.refresh_from_db()
        assert item.current == v2 and (v2.number, v2.change_note) == (2, "更正金额")
        assert v2.published_at == NOW + dt.timedelta(days=1)
        v1 = item.versions.get(number=1)
        assert (v1.body, v1.published_at) == ("原正文", NOW)
        assert item.published_at == NOW  # the first publication date stays
        assert generation() == before + 1
        entry = AuditEntry.objects.get(action="item.correct")
        assert entry.reason == "更正金额" and entry.changes == {"version": 2}

    def test_the_list_and_attachments_carry_over_to_the_correction(self, world):
        item = draft(world, code="reward-assistance", place=world.village)
        clerk = world.users["town_clerk"]
        services.entry_add(actor=clerk, item=item, name="张三", id_number="x")
        services.attachment_add(actor=clerk, item=item, upload=upload(PNG, "a.png"), title="图")
        services.item_submit(actor=clerk, item=item)
        item = services.item_publish(actor=world.users["county_clerk"], item=item, now=NOW)
        v2 = self._correct(world, item)
        assert [e.name for e in v2.entries.all()] == ["张三"]
        assert [a.title for a in v2.attachments.all()] == ["图"]
        assert ListEntry.objects.count() == 2 and Attachment.objects.count() == 2
        v1_att, v2_att = Attachment.objects.order_by("id")
        assert v1_att.file.name == v2_att.file.name  # one stored file, two versions

    def test_a_change_note_is_required(self, world):
        item = published(world)
        with refused("请写明更正说明，公众会在版本记录中看到。") as exc:
            self._correct(world, item, change_note=" ")
        assert exc.value.field == "change_note" and item.versions.count() == 1

    def test_only_a_published_item_can_be_corrected(self, world):
        with refused("只有已发布的事项可以更正。"):
            self._correct(world, in_review(world))

    def test_a_town_clerk_cannot_correct(self, world):
        item = published(world)
        with refused("您的角色不能进行这个操作。"):
            services.item_correct(
                actor=world.users["town_clerk"], item=item, title="x", change_note="y"
            )

    def test_an_empty_title_keeps_the_old_title(self, world):
        item = published(world)
        assert self._correct(world, item, title="").title == "生育登记办事指南"


class TestItemWithdraw:
    def test_a_published_item_is_withdrawn_with_its_reason(self, world):
        item = published(world)
        before = generation()
        services.item_withdraw(actor=world.users["county_clerk"], item=item, reason="内容有误")
        item.refresh_from_db()
        assert (item.status, item.review_note) == (rules.WITHDRAWN, "内容有误")
        assert generation() == before + 1
        assert AuditEntry.objects.get(action="item.withdraw").reason == "内容有误"

    def test_a_reason_is_required(self, world):
        item = published(world)
        with refused("撤回时请写明原因。") as exc:
            services.item_withdraw(actor=world.users["county_clerk"], item=item, reason="")
        assert exc.value.field == "reason"

    def test_a_draft_cannot_be_withdrawn(self, world):
        with refused("“草稿”的事项不能改为“已撤回”。"):
            services.item_withdraw(actor=world.users["county_clerk"], item=draft(world), reason="x")

    def test_a_town_clerk_cannot_withdraw(self, world):
        item = published(world)
        with refused("您的角色不能进行这个操作。"):
            services.item_withdraw(actor=world.users["town_clerk"], item=item, reason="x")


class TestItemArchive:
    def test_a_published_item_is_archived(self, world):
        item = services.item_archive(actor=world.users["county_clerk"], item=published(world))
        assert item.status == rules.ARCHIVED

    def test_a_withdrawn_item_is_archived(self, world):
        item = published(world)
        services.item_withdraw(actor=world.users["county_clerk"], item=item, reason="错")
        services.item_archive(actor=world.users["county_clerk"], item=item)
        item.refresh_from_db()
        assert item.status == rules.ARCHIVED

    def test_a_draft_cannot_be_archived(self, world):
        with refused("“草稿”的事项不能改为“已归档”。"):
            services.item_archive(actor=world.users["county_clerk"], item=draft(world))

    def test_an_archived_item_stays_archived(self, world):
        item = services.item_archive(actor=world.users["county_clerk"], item=published(world))
        with refused("“已归档”的事项不能改为“已撤回”。"):
            services.item_withdraw(actor=world.users["county_clerk"], item=item, reason="x")


class TestEntryAdd:
    def test_a_typed_entry_is_added_in_order(self, world):
        item = draft(world, code="reward-assistance")
        clerk = world.users["town_clerk"]
        services.entry_add(actor=clerk, item=item, name="张三", id_number="32032419800101001x")
        e = services.entry_add(actor=clerk, item=item, name=" 李四 ", matter="奖励扶助")
        first = item.current.entries.first()
        assert first.id_number == "32032419800101001X" and first.position == 1
        assert (e.name, e.position, e.matter) == ("李四", 2, "奖励扶助")
        assert actions(item).count("item.entry_add") == 2

    def test_invisible_characters_are_stripped_from_the_name_place_and_matter(self, world):
        item = draft(world, code="reward-assistance")
        e = services.entry_add(
            actor=world.users["town_clerk"],
            item=item,
            name="\u202e李\u200b四",
            place_name="一村\u2067",
            matter="奖励\u00ad扶助",
        )
        assert (e.name, e.place_name, e.matter) == ("李四", "一村", "奖励扶助")

    def test_a_resident_brings_their_name_id_and_village(self, world):
        item = draft(world, code="reward-assistance")
        own = world.residents["own"]
        e = services.entry_add(actor=world.users["town_clerk"], item=item, name="", resident=own)
        assert (e.name, e.id_number, e.place_name, e.resident) == (
            own.name,
            own.id_number,
            own.place.name,
            own,
        )

    def test_a_name_is_required(self, world):
        with refused("姓名不能为空。") as exc:
            services.entry_add(actor=world.users["town_clerk"], item=draft(world), name=" ")
        assert exc.value.field == "name"

    def test_a_published_list_cannot_change(self, world):
        item = notice(world)
        with refused("已发布的版本不能修改；如需更正，请发布更正版本。"):
            services.entry_add(actor=world.users["town_clerk"], item=item, name="张三")

    def test_an_observer_cannot_add(self, world):
        with refused("您的角色不能进行这个操作。"):
            services.entry_add(actor=world.users["observer"], item=draft(world), name="张三")


class TestAttachmentAdd:
    def test_a_real_png_is_stored_under_a_random_name(self, world):
        item = draft(world)
        att = services.attachment_add(
            actor=world.users["town_clerk"], item=item, upload=upload(PNG, "流程图.exe"), title=""
        )
        assert (att.content_type, att.size, att.title) == ("image/png", len(PNG), "附件")
        assert att.file.name.endswith(".png") and "流程图" not in att.file.name
        assert len(att.sha256) == 64 and att.is_image
        assert att.file.read() == PNG

    def test_a_pdf_is_accepted(self, world):
        att = services.attachment_add(
            actor=world.users["town_clerk"],
            item=draft(world),
            upload=upload(PDF, "a.pdf"),
            title="表",
        )
        assert att.content_type == "application/pdf" and att.file.name.endswith(".pdf")

    def test_a_program_renamed_png_is_refused(self, world):
        with refused("附件只能是图片（PNG、JPEG、GIF）或 PDF 文件。") as exc:
            services.attachment_add(
                actor=world.users["town_clerk"],
                item=draft(world),
                upload=upload(EXE, "图.png"),
                title="",
            )
        assert exc.value.field == "file" and not Attachment.objects.exists()

    def test_a_file_over_ten_megabytes_is_refused(self, world):
        big = upload(PNG + b"\x00" * services.MAX_ATTACHMENT, "big.png")
        with refused("附件不能超过 10 MB。"):
            services.attachment_add(
                actor=world.users["town_clerk"], item=draft(world), upload=big, title=""
            )

    def test_a_published_version_takes_no_attachment(self, world):
        with refused("已发布的版本不能修改；如需更正，请发布更正版本。"):
            services.attachment_add(
                actor=world.users["town_clerk"],
                item=published(world),
                upload=upload(PNG, "a.png"),
                title="",
            )


class TestObjectionFile:
    def test_anyone_may_object_during_the_period(self, world):
        item = notice(world)
        o = services.objection_file(
            item=item,
            text="名单中张三不符合条件",
            name="王五",
            phone="13800001111",
            ip="1.2.3.4",
            now=NOW + dt.timedelta(days=1),
        )
        assert (o.status, o.item_path, o.channel) == (rules.OBJECTION_OPEN, item.place_path, "web")
        assert len(o.tracking_code) == 10
        entry = AuditEntry.objects.get(action="objection.file")
        assert entry.actor is None and entry.place_path == item.place_path
        assert "王五" not in entry.object_repr

    def test_invisible_characters_are_stripped_from_the_text_and_name(self, world):
        o = services.objection_file(
            item=notice(world),
            text="\u202e名单中张三\u200b不符合条件\r\n请核实\u2069",
            name="王\u200b五\u202c",
            now=NOW + dt.timedelta(days=1),
        )
        assert (o.text, o.name) == ("名单中张三不符合条件\n请核实", "王五")

    def test_an_objection_of_invisible_characters_is_too_short(self, world):
        with refused("请写明异议的内容和理由（至少5个字）。"):
            services.objection_file(
                item=notice(world),
                text="异\u200b\u200b\u200b\u200b议",
                now=NOW + dt.timedelta(days=1),
            )

    def test_after_the_period_objections_are_refused(self, world):
        item = notice(world)
        with refused("公示期已经结束，不能再提出异议。如有问题请拨打监督电话。"):
            services.objection_file(
                item=item, text="名单有误请核实", now=item.notice_ends_at + dt.timedelta(seconds=1)
            )

    def test_on_the_last_day_objections_are_still_taken(self, world):
        item = notice(world)
        o = services.objection_file(item=item, text="名单有误请核实", now=item.notice_ends_at)
        assert o.pk

    def test_a_plain_disclosure_takes_no_objection(self, world):
        with refused("这个事项不是正在进行的公示，不能提出异议。"):
            services.objection_file(item=published(world), text="名单有误请核实", now=NOW)

    def test_a_withdrawn_notice_takes_no_objection(self, world):
        item = notice(world)
        services.item_withdraw(actor=world.users["county_clerk"], item=item, reason="错")
        item.refresh_from_db()
        with refused("这个事项不是正在进行的公示，不能提出异议。"):
            services.objection_file(item=item, text="名单有误请核实", now=NOW)

    def test_a_text_too_short_is_refused(self, world):
        with refused("请写明异议的内容和理由（至少5个字）。") as exc:
            services.objection_file(item=notice(world), text=" 不对 ", now=NOW)
        assert exc.value.field == "text"

    def test_a_text_too_long_is_refused(self, world):
        with refused("异议内容请控制在2000字以内。"):
            services.objection_file(item=notice(world), text="长" * 2001, now=NOW)

    def test_the_sixth_objection_from_one_address_in_an_hour_is_refused(self, world):
        item = notice(world)
        for _ in range(services.OBJECTIONS_PER_HOUR):
            services.objection_file(item=item, text="名单有误请核实", ip="9.9.9.9", now=NOW)
        with refused("提交过于频繁，请一小时后再试，或拨打监督电话。"):
            services.objection_file(item=item, text="名单有误请核实", ip="9.9.9.9", now=NOW)
        assert services.objection_file(item=item, text="名单有误请核实", ip="8.8.8.8", now=NOW)
        assert Objection.objects.count() == services.OBJECTIONS_PER_HOUR + 1


class TestObjectionAnswer:
    def _objection(self, world):
        return services.objection_file(item=notice(world), text="名单有误请核实", now=NOW)

    def test_the_clerk_answers_and_the_objection_is_closed(self, world):
        o = self._objection(world)
        before = generation()
        services.objection_answer(
            actor=world.users["town_clerk"], objection=o, answer=" 经核实，符合条件。 ", now=NOW
        )
        o.refresh_from_db()
        assert (o.status, o.answer, o.answered_by, o.answered_at) == (
            rules.OBJECTION_ANSWERED,
            "经核实，符合条件。",
            world.users["town_clerk"],
            NOW,
        )
        assert generation() == before + 1
        assert AuditEntry.objects.filter(action="objection.answer").count() == 1

    def test_an_answer_too_short_is_refused(self, world):
        o = self._objection(world)
        with refused("请写明答复内容（至少5个字）。") as exc:
            services.objection_answer(actor=world.users["town_clerk"], objection=o, answer="好")
        assert exc.value.field == "answer"

    def test_another_towns_clerk_cannot_answer(self, world):
        o = self._objection(world)
        with refused("这条异议不在您的管辖范围内。"):
            services.objection_answer(
                actor=world.users["outsider"], objection=o, answer="经核实无误。"
            )

    def test_the_county_admin_cannot_answer(self, world):
        o = self._objection(world)
        with refused("您的角色不能进行这个操作。"):
            services.objection_answer(
                actor=world.users["county_admin"], objection=o, answer="经核实无误。"
            )


class TestNoticeFinalise:
    def _answer_all(self, world, item):
        for o in item.objections.all():
            services.objection_answer(
                actor=world.users["town_clerk"], objection=o, answer="经核实无误。"
            )

    def test_an_open_objection_blocks_finalising(self, world):
        item = notice(world)
        services.objection_file(item=item, text="名单有误请核实", now=NOW)
        after = item.notice_ends_at + dt.timedelta(days=1)
        with refused("还有 1 条异议没有答复，答复后才能办结公示。"):
            services.notice_finalise(
                actor=world.users["town_clerk"], item=item, outcome="无异议", now=after
            )
        item.refresh_from_db()
        assert item.finalised_at is None

    def test_the_running_period_blocks_finalising(self, world):
        item = notice(world)
        with refused("公示期到 2026年03月09日 才结束，期满后才能办结。"):
            services.notice_finalise(
                actor=world.users["town_clerk"],
                item=item,
                outcome="无异议",
                now=NOW + dt.timedelta(days=2),
            )

    def test_after_answering_and_the_period_the_outcome_is_published(self, world):
        item = notice(world)
        services.objection_file(item=item, text="名单有误请核实", now=NOW)
        self._answer_all(world, item)
        after = item.notice_ends_at + dt.timedelta(seconds=1)
        before = generation()
        item = services.notice_finalise(
            actor=world.users["town_clerk"],
            item=item,
            outcome=" 公示无异议，予以确认。 ",
            now=after,
        )
        assert (item.outcome, item.finalised_at) == ("公示无异议，予以确认。", after)
        assert item.status == rules.PUBLISHED and generation() == before + 1
        assert actions(item)[-1] == "item.finalise"

    def test_an_outcome_is_required(self, world):
        item = notice(world)
        with refused("请写明公示结果。") as exc:
            services.notice_finalise(
                actor=world.users["town_clerk"],
                item=item,
                outcome=" ",
                now=item.notice_ends_at + dt.timedelta(days=1),
            )
        assert exc.value.field == "outcome"

    def test_finalising_twice_is_refused(self, world):
        item = notice(world)
        after = item.notice_ends_at + dt.timedelta(days=1)
        services.notice_finalise(
            actor=world.users["town_clerk"], item=item, outcome="无异议", now=after
        )
        with refused("这条公示已经办结。"):
            services.notice_finalise(
                actor=world.users["town_clerk"], item=item, outcome="无异议", now=after
            )

    def test_a_disclosure_is_not_finalised(self, world):
        with refused("只有已发布的公示可以办结。"):
            services.notice_finalise(
                actor=world.users["county_clerk"], item=published(world), outcome="x", now=NOW
            )

    def test_the_county_admin_cannot_finalise(self, world):
        item = notice(world)
        with refused("您的角色不能进行这个操作。"):
            services.notice_finalise(
                actor=world.users["county_admin"],
                item=item,
                outcome="x",
                now=item.notice_ends_at + dt.timedelta(days=1),
            )


class TestGeneration:
    def test_drafting_submitting_and_returning_leave_the_boards_alone(self, world):
        before = generation()
        item = in_review(world)
        services.item_return(actor=world.users["county_clerk"], item=item, note="改")
        assert generation() == before

    def test_every_public_change_bumps_it_once(self, world):
        before = generation()
        item = published(world)
        services.item_correct(
            actor=world.users["county_clerk"], item=item, title="t", change_note="c"
        )
        services.item_withdraw(actor=world.users["county_clerk"], item=item, reason="r")
        services.item_archive(actor=world.users["county_clerk"], item=item)
        assert generation() == before + 4

    def test_the_counter_row_is_recreated_when_missing(self, world):
        from sunshine.publishing.models import PublicationState

        PublicationState.objects.all().delete()
        services.bump_generation()
        assert generation() == 1


class TestCategories:
    def test_a_county_clerk_renames_and_retimes_a_category_with_an_audit_diff(self, world):
        c = category("procedures")
        services.category_update(
            actor=world.users["county_clerk"],
            category=c,
            name=" 办事指南 ",
            description="",
            notice_days=5,
            is_active=False,
        )
        c.refresh_from_db()
        assert (c.name, c.notice_days, c.is_active, c.is_notice) == ("办事指南", 5, False, True)
        changes = AuditEntry.objects.get(action="category.update").changes
        assert changes["name"] == ["办事流程", "办事指南"] and changes["notice_days"] == ["0", "5"]

    def test_the_county_admin_may_edit_categories(self, world):
        c = services.category_update(
            actor=world.users["county_admin"], category=category("procedures"), name="流程"
        )
        assert c.name == "流程"

    def test_a_town_clerk_cannot_edit_categories(self, world):
        with refused("您的角色不能进行这个操作。"):
            services.category_update(
                actor=world.users["town_clerk"], category=category("procedures"), name="x"
            )

    def test_an_empty_name_or_a_long_period_is_refused(self, world):
        c = category("procedures")
        with refused("类别名称不能为空。"):
            services.category_update(actor=world.users["county_clerk"], category=c, name=" ")
        with refused("公示天数不能超过90天。"):
            services.category_update(
                actor=world.users["county_clerk"], category=c, name="x", notice_days=91
            )
        c.refresh_from_db()
        assert c.name == "办事流程"

    def test_a_new_category_goes_last(self, world):
        last = Category.objects.order_by("-position").first()
        c = services.category_create(
            actor=world.users["county_clerk"], code="Births", name="生育登记统计", notice_days=0
        )
        assert (c.code, c.position, c.is_active) == ("births", last.position + 1, True)
        assert AuditEntry.objects.filter(action="category.create").exists()

    def test_a_code_in_use_is_refused(self, world):
        with refused("代码 procedures 已被使用，请换一个。") as exc:
            services.category_create(actor=world.users["county_clerk"], code="procedures", name="x")
        assert exc.value.field == "code"

    def test_a_code_that_is_not_a_slug_is_refused(self, world):
        with pytest.raises(ServiceError) as exc:
            services.category_create(actor=world.users["county_clerk"], code="生育 登记", name="x")
        assert exc.value.field == "code"


def test_the_default_clock_is_used_when_no_time_is_given(world):
    item = in_review(world)
    before = timezone.now()
    item = services.item_publish(actor=world.users["county_clerk"], item=item)
    assert before <= item.published_at <= timezone.now()


class TestObjectionBySms:
    """SPEC §1: an objection may be filed by SMS — "YY 内容" in reply to a notice SMS, or with
    the notice's public number first. Replies carry no time of their own: the notices here
    are published an hour before the real now."""

    MOBILE = "13900007777"

    def _push(self, content, seq="y1", phone=MOBILE):
        from sunshine.messaging import services as sms_services

        return sms_services.replies_receive(
            [{"phone_number": phone, "content": content, "sequence_id": seq}]
        )

    def _notice_sms(self, item, mobile=MOBILE):
        """A notice SMS sent to the number (what a reply answers is what it was sent)."""
        from sunshine.messaging import services as sms_services
        from sunshine.messaging.models import Message

        m = sms_services.message_enqueue(
            programme="publishing",
            mobile=mobile,
            body="公示通知",
            source=f"publication:{item.public_id}:v1",
        )
        Message.objects.filter(pk=m.pk).update(status="sent", sent_at=timezone.now())

    def _sms_to(self, mobile=MOBILE):
        from sunshine.messaging.models import Message

        return list(
            Message.objects.filter(mobile=mobile, source__startswith="objection-sms:").order_by(
                "id"
            )
        )

    def test_a_reply_to_a_notice_sms_files_an_objection_and_tells_its_tracking_code(self, world):
        from sunshine.messaging import rules as sms_rules
        from sunshine.messaging.models import Reply

        item = notice(world, now=timezone.now() - dt.timedelta(hours=1))
        self._notice_sms(item)
        self._push("yy：名单中张三家不符合条件")
        o = Objection.objects.get()
        assert (o.item, o.channel, o.phone, o.text) == (
            item,
            "sms",
            self.MOBILE,
            "名单中张三家不符合条件",
        )
        reply = Reply.objects.get()
        assert (reply.route, reply.handled) == ("objection", True)
        (ack,) = self._sms_to()
        assert o.tracking_code in ack.body and ack.category == sms_rules.ESSENTIAL
        assert "2026年奖励扶助对象公示" in ack.body

    def test_the_public_number_first_finds_the_notice_without_a_notice_sms(self, world):
        item = notice(world, now=timezone.now() - dt.timedelta(hours=1))
        self._push(f"异议 {item.public_id} 名单有误请核实")
        o = Objection.objects.get()
        assert (o.item, o.text) == (item, "名单有误请核实")

    def test_after_the_period_the_sender_is_told_why_and_the_reply_waits_in_the_inbox(self, world):
        from sunshine.messaging.models import Reply

        item = notice(world, now=timezone.now() - dt.timedelta(days=60))
        self._notice_sms(item)
        self._push("YY 名单有误请核实")
        assert not Objection.objects.exists()
        (ack,) = self._sms_to()
        assert "未能受理：公示期已经结束" in ack.body
        assert (Reply.objects.get().route, Reply.objects.get().handled) == ("inbox", False)

    def test_an_objection_with_no_notice_to_go_to_stays_in_the_inbox(self):
        from sunshine.messaging.models import Reply

        self._push("YY 你们的名单有问题")
        assert not Objection.objects.exists() and not self._sms_to()
        assert Reply.objects.get().route == "inbox"

    def test_sms_objections_are_limited_per_number(self, world):
        item = notice(world, now=timezone.now() - dt.timedelta(hours=1))
        self._notice_sms(item)
        for i in range(services.OBJECTIONS_PER_HOUR + 1):
            self._push(f"YY 名单有误请核实第{i}条", seq=f"y{i}")
        assert Objection.objects.count() == services.OBJECTIONS_PER_HOUR
        assert "提交过于频繁" in self._sms_to()[-1].body
