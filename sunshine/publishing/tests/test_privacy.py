"""Identifiers pasted into a publication (issue 15 §1): a table's ID and mobile numbers are
masked before they are stored, free text holding one is refused naming the field and the line,
the drafter and the reviewer see the masked result, and no public output (page, board, poster,
feed, open-data API, press copy) shows a full number, even for rows written before the check."""

import importlib
import json
import re

import pytest
from django.apps import apps
from django.urls import reverse

from sunshine.core.errors import ServiceError
from sunshine.core.models import AuditEntry
from sunshine.publishing import posters, services
from sunshine.publishing.models import Item, ItemVersion, ListEntry
from sunshine.publishing.tests.test_views_staff import (
    body,
    login,
    make_item,
    make_notice,
    make_published,
    objection_on,
    url,
)
from sunshine.publishing.views.staff import _press_args

pytestmark = pytest.mark.django_db

ID = "320324197003151124"  # the number the probe found in full on the public page
ID_MASKED = "320324********1124"
ID2 = "110105199001010010"
ID2_MASKED = "110105********0010"
MOBILE, MOBILE_MASKED = "13812345678", "138****5678"
FULL = re.compile(rf"{ID}|{ID2}|{MOBILE}")
PASTED = (
    "序号\t姓名\t身份证号码\t联系电话\t金额\n"
    f"1\t张三\t{ID}\t{MOBILE}\t3000\n"
    f"2\t李四\t{ID2}\t0516-88881234\t3000\n"
)


def text(response) -> str:
    return response.content.decode()


def form(world, **over) -> dict:
    data = {
        "category": "reward-assistance",
        "place": world.town.code,
        "kind": "",
        "title": "2026年奖励扶助对象公示",
        "summary": "以下人员拟列为奖励扶助对象",
        "body": "公示期内如有异议，请拨打监督电话。",
        "table": PASTED,
        "levels": ["village"],
        "publish_at": "",
        "expires_at": "",
        "spokesperson": "",
        "token": "privacy-1",
    }
    return {**data, **over}


def public_outputs(client, item) -> dict[str, str]:
    """Everything the public can fetch about the item and its board."""
    item.refresh_from_db()
    code = item.place.code
    board = posters.board_data(item.place)
    return {
        "page": text(client.get(reverse("publishing:item", args=[item.public_id]))),
        "board": text(client.get(reverse("portal:board", args=[code]))),
        "feed": text(client.get(reverse("publishing:board-feed", args=[code]))),
        "poster": json.dumps([(i.title, i.summary) for i in board.items], ensure_ascii=False),
        "api": text(client.get(f"/api/open/items/{item.public_id}")),
        "api-list": text(client.get("/api/open/items?limit=100")),
        "csv": body(client.get("/api/open/items.csv")),
        "press": json.dumps(_press_args(item), ensure_ascii=False, default=str),
    }


def assert_no_full_number(outputs: dict[str, str]) -> None:
    for name, value in outputs.items():
        assert not FULL.search(value), (name, FULL.search(value).group())


class TestProbe:
    def test_a_pasted_id_column_reaches_every_public_output_masked(self, client, world):
        """The probe: pasted from Excel, reviewed, published; today the number was in full."""
        login(client, world, "town_clerk")
        response = client.post(url("item-create"), form(world))
        assert response.status_code == 302, text(response)
        item = Item.objects.get(current__title="2026年奖励扶助对象公示")
        assert client.post(url("item-submit", item.pk)).status_code == 302
        login(client, world, "county_clerk")
        assert client.post(url("item-publish", item.pk)).status_code == 302
        item.refresh_from_db()
        assert item.status == "published"

        stored = json.dumps(ItemVersion.objects.get(pk=item.current_id).table, ensure_ascii=False)
        assert ID_MASKED in stored and ID2_MASKED in stored and MOBILE_MASKED in stored
        assert "0516-88881234" in stored  # a landline is not a mobile number
        client.logout()
        outputs = public_outputs(client, item)
        assert_no_full_number(outputs)
        assert ID_MASKED in outputs["page"] and MOBILE_MASKED in outputs["page"]
        assert ID_MASKED in outputs["api"] and item.current.title in outputs["board"]

    def test_the_audit_row_of_the_draft_says_what_was_masked(self, world):
        item = make_item(world, table=_table(PASTED))
        entry = AuditEntry.objects.get(action="item.create", object_id=str(item.pk))
        assert entry.changes["masked"] == {"id_number": 2, "mobile": 1}


def _table(pasted: str) -> dict:
    from sunshine.publishing.forms import parse_table

    return parse_table(pasted)


class TestTables:
    def test_a_mobile_in_a_cell_without_a_telling_header_is_masked_by_content(self, world):
        table = {"headers": ["村", "联系人"], "rows": [["一村", f"王五 {MOBILE}"]]}
        item = make_item(world, table=table)
        assert item.current.table["rows"] == [["一村", f"王五 {MOBILE_MASKED}"]]

    def test_a_draft_edited_later_is_masked_too(self, world):
        item = make_item(world)
        services.item_update_draft(
            actor=world.users["town_clerk"], item=item, title="办事指南", table=_table(PASTED)
        )
        assert not FULL.search(json.dumps(ItemVersion.objects.get(pk=item.current_id).table))

    def test_a_correction_is_masked_too(self, world):
        item = make_published(world)
        version = services.item_correct(
            actor=world.users["county_clerk"],
            item=item,
            title="办事指南",
            table=_table(PASTED),
            change_note="补充名单",
        )
        assert not FULL.search(json.dumps(version.table)) and ID_MASKED in str(version.table)

    def test_an_order_number_with_a_wrong_check_digit_is_published_as_it_is(self, world):
        order = ID[:17] + "5"
        item = make_item(world, table={"headers": ["订单号"], "rows": [[order]]})
        assert item.current.table["rows"] == [[order]]


class TestFreeText:
    def test_an_id_in_the_body_is_refused_naming_the_field_and_the_line(self, world):
        with pytest.raises(ServiceError) as exc:
            make_item(world, body=f"第一段\n\n经核实，张三（身份证{ID}）符合条件。")
        assert exc.value.field == "body"
        assert "正文第3行" in exc.value.message and ID_MASKED in exc.value.message
        assert ID not in exc.value.message
        assert not Item.objects.exists()

    @pytest.mark.parametrize("field", ["title", "summary"])
    def test_a_mobile_in_the_title_or_summary_is_refused(self, world, field):
        with pytest.raises(ServiceError) as exc:
            make_item(world, **{field: f"联系电话 {MOBILE[:3]} {MOBILE[3:7]} {MOBILE[7:]}"})
        assert exc.value.field == field and MOBILE_MASKED in exc.value.message

    def test_the_form_shows_the_refusal_next_to_the_body(self, client, world):
        login(client, world, "town_clerk")
        response = client.post(url("item-create"), form(world, body=f"联系人手机{MOBILE}"))
        assert response.status_code == 200 and not Item.objects.exists()
        html = text(response)
        assert f"正文第1行有完整的手机号码（{MOBILE_MASKED}）" in html
        assert 'aria-describedby="id_body_error' in html or "id_body_error" in html

    def test_editing_a_draft_refuses_it_too(self, world):
        item = make_item(world)
        with pytest.raises(ServiceError, match="摘要第1行"):
            services.item_update_draft(
                actor=world.users["town_clerk"], item=item, title="办事指南", summary=ID
            )

    def test_a_correction_note_with_a_mobile_is_refused(self, world):
        item = make_published(world)
        with pytest.raises(ServiceError, match="更正说明"):
            services.item_correct(
                actor=world.users["county_clerk"],
                item=item,
                title="办事指南",
                change_note=f"更正{MOBILE}的金额",
            )

    def test_a_list_entry_matter_with_an_id_is_refused(self, world):
        item = make_item(world, code="reward-assistance")
        with pytest.raises(ServiceError) as exc:
            services.entry_add(
                actor=world.users["town_clerk"], item=item, name="张三", matter=f"见{ID}"
            )
        assert exc.value.field == "matter" and not ListEntry.objects.exists()

    def test_a_published_answer_to_an_objection_with_a_mobile_is_refused(self, world):
        objection = objection_on(make_notice(world))
        with pytest.raises(ServiceError, match="答复第2行"):
            services.objection_answer(
                actor=world.users["town_clerk"],
                objection=objection,
                answer=f"经核实情况属实。\n已电话联系{MOBILE}告知结果。",
            )

    def test_an_attachment_title_with_a_mobile_is_refused(self, world):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from sunshine.publishing.tests.test_views_staff import PNG

        with pytest.raises(ServiceError, match="附件名称有完整的手机号码") as exc:
            services.attachment_add(
                actor=world.users["town_clerk"],
                item=make_item(world),
                upload=SimpleUploadedFile("a.png", PNG),
                title=f"王五 {MOBILE} 的证明",
            )
        assert exc.value.field == "title"

    def test_an_18_digit_number_with_a_wrong_check_digit_in_the_body_is_accepted(self, world):
        item = make_item(world, body=f"合同编号 {ID[:17]}5")
        assert item.current.body.endswith(ID[:17] + "5")


class TestDraftedBeforeTheCheck:
    """Rows written before the check (or around the services) never reach the public."""

    def _legacy(self, world) -> Item:
        item = make_item(world, place=world.town, code="reward-assistance", title="旧草稿")
        ItemVersion.objects.filter(pk=item.current_id).update(
            title=f"旧草稿 {MOBILE}",
            summary=f"张三 {ID}",
            body=f"李四 {ID2}",
            table={"headers": ["身份证号码"], "rows": [[ID]]},
        )
        item.refresh_from_db()
        return item

    def test_publishing_masks_what_an_old_draft_still_holds(self, client, world):
        item = self._legacy(world)
        services.item_submit(actor=world.users["town_clerk"], item=item)
        services.item_publish(actor=world.users["county_clerk"], item=item)
        version = ItemVersion.objects.get(pk=item.current_id)
        stored = json.dumps(
            [version.title, version.summary, version.body, version.table], ensure_ascii=False
        )
        assert not FULL.search(stored) and ID_MASKED in stored
        assert AuditEntry.objects.filter(action="item.mask", object_id=str(item.pk)).exists()
        assert_no_full_number(public_outputs(client, item))

    def test_public_output_masks_a_published_row_changed_around_the_services(self, client, world):
        item = make_published(world, place=world.town, code="reward-assistance")
        ItemVersion.objects.filter(pk=item.current_id).update(
            title=f"公示 {MOBILE}",
            summary=f"张三 {ID}",
            body=f"李四 {ID2}",
            table={"headers": ["备注"], "rows": [[ID]]},
        )
        Item.objects.filter(pk=item.pk).update(outcome=f"结果：{ID2}")
        services.bump_generation()
        outputs = public_outputs(client, item)
        assert_no_full_number(outputs)
        assert ID_MASKED in outputs["page"] and ID_MASKED in outputs["poster"]
        assert MOBILE_MASKED in outputs["feed"] and ID_MASKED in outputs["api"]

    def test_the_migration_masks_every_stored_public_text(self, world):
        item = make_notice(world)
        objection = objection_on(item)
        services.entry_add(actor=None, item=make_item(world), name="张三", matter="奖励")
        ItemVersion.objects.filter(pk=item.current_id).update(
            body=f"李四 {ID2}", table={"headers": ["证件号码"], "rows": [[ID]]}
        )
        Item.objects.filter(pk=item.pk).update(outcome=f"结果 {MOBILE}")
        ListEntry.objects.update(matter=f"联系 {MOBILE}")
        objection.answer = f"已答复 {MOBILE}"
        objection.save(update_fields=["answer"])
        migration = importlib.import_module(
            "sunshine.publishing.migrations.0005_mask_identifiers_in_public_text"
        )
        migration.mask(apps, None)
        migration.mask(apps, None)  # twice changes nothing more
        version = ItemVersion.objects.get(pk=item.current_id)
        assert version.body == f"李四 {ID2_MASKED}"
        assert version.table["rows"] == [[ID_MASKED]]
        item.refresh_from_db()
        objection.refresh_from_db()
        assert item.outcome == f"结果 {MOBILE_MASKED}"
        assert objection.answer == f"已答复 {MOBILE_MASKED}"
        assert ListEntry.objects.get().matter == f"联系 {MOBILE_MASKED}"


class TestPreview:
    def test_the_drafter_previews_the_masked_table_before_saving(self, client, world):
        login(client, world, "town_clerk")
        response = client.post(url("item-create"), {**form(world), "preview": "1"})
        html = text(response)
        assert response.status_code == 200 and not Item.objects.exists()
        assert "公开效果预览" in html and "已自动隐去 2 个身份证号码、1 个手机号码" in html
        preview = html[html.index("公开效果预览") :]
        assert ID_MASKED in preview and ID not in preview and MOBILE not in preview

    def test_the_preview_shows_the_refusal_of_an_id_in_the_body(self, client, world):
        login(client, world, "town_clerk")
        response = client.post(
            url("item-create"), {**form(world, body=f"张三{ID}"), "preview": "1"}
        )
        html = text(response)
        assert "正文第1行有完整的身份证号码" in html and "公开效果预览" not in html

    def test_the_drafter_sees_the_masked_draft_and_the_notice_before_submitting(
        self, client, world
    ):
        login(client, world, "town_clerk")
        response = client.post(url("item-create"), form(world), follow=True)
        html = text(response)
        assert "已自动隐去 2 个身份证号码、1 个手机号码" in html
        assert ID_MASKED in html and ID not in html and MOBILE not in html

    def test_the_reviewer_sees_the_masked_item_and_the_notice_before_publishing(
        self, client, world
    ):
        item = make_item(world, place=world.town, table=_table(PASTED))
        services.item_submit(actor=world.users["town_clerk"], item=item)
        login(client, world, "county_clerk")
        html = text(client.get(url("item-detail", item.pk)))
        assert reverse("publishing:staff-item-publish", args=[item.pk]) in html
        assert "已自动隐去 2 个身份证号码、1 个手机号码" in html
        assert ID_MASKED in html and ID not in html and MOBILE not in html

    def test_the_reviewer_previews_a_correction_masked_before_it_is_published(self, client, world):
        item = make_published(world)
        login(client, world, "county_clerk")
        data = {"title": "办事指南", "change_note": "补充名单", "table": PASTED, "preview": "1"}
        response = client.post(url("item-correct", item.pk), data)
        html = text(response)
        assert response.status_code == 200 and item.versions.count() == 1
        preview = html[html.index("公开效果预览（尚未发布）") :]
        assert "已自动隐去 2 个身份证号码、1 个手机号码" in preview
        assert ID_MASKED in preview and ID not in preview and MOBILE not in preview

    def test_an_item_without_identifiers_shows_no_masking_notice(self, client, world):
        item = make_item(world, table={"headers": ["事项"], "rows": [["生育登记"]]})
        login(client, world, "town_clerk")
        assert "已自动隐去" not in text(client.get(url("item-detail", item.pk)))
