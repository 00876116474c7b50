"""Public output of the publication pipeline that is not a page: the board's Atom feed."""

import xml.etree.ElementTree as ET

import pytest

from sunshine.publishing.tests.test_services import published

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


class TestBoardFeed:
    def test_summaries_are_plain_text_so_readers_never_render_typed_markup(self, world, client):
        summary = '<img src=x onerror="alert(1)"> 摘要 & 说明'
        published(world, title="生育登记办事指南", summary=summary)
        response = client.get(f"/p/{world.town.code}/feed.atom")
        assert response.status_code == 200
        entries = ET.fromstring(response.content).findall(f"{ATOM}entry")
        summaries = [e.find(f"{ATOM}summary") for e in entries]
        assert [s.get("type") for s in summaries] == ["text"]
        assert summaries[0].text == summary
        assert b'type="html"' not in response.content
