"""Board posters, poster batches and press copy (sunshine.publishing.pdf). No database."""

import datetime as dt
import logging
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from reportlab import rl_config
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from sunshine.publishing import pdf

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2025, 3, 14, 10, 30, tzinfo=TZ)
PDFTOTEXT = shutil.which("pdftotext")
NOTO_CFF = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def item(title="奖励扶助对象拟确认名单公示", **kw) -> pdf.PosterItem:
    kw.setdefault("date", dt.date(2025, 3, 12))
    kw.setdefault("category", "奖励扶助")
    return pdf.PosterItem(title=title, **kw)


def board(items=None, **kw) -> pdf.Board:
    kw.setdefault("place_name", "庆盛社区")
    kw.setdefault("level_label", "村（社区）")
    kw.setdefault("county_name", "睢宁县")
    kw.setdefault("url", "https://sunshine.example.gov.cn/p/990101001001/")
    kw.setdefault("hotline", "0516-88888888")
    kw.setdefault("generated_at", NOW)
    return pdf.Board(items=[item()] if items is None else items, **kw)


def pages(data: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", data))


def media_box(data: bytes) -> tuple[float, float]:
    box = re.search(rb"/MediaBox\s*\[\s*([-\d.\s]+)\]", data).group(1).split()
    x0, y0, x1, y1 = map(float, box)
    return x1 - x0, y1 - y0


def text_of(data: bytes, tmp_path: Path, page: int | None = None) -> str:
    if not PDFTOTEXT:
        pytest.skip("pdftotext (Debian poppler-utils) is not installed")
    src = tmp_path / "doc.pdf"
    src.write_bytes(data)
    args = [PDFTOTEXT, "-enc", "UTF-8"]
    if page:
        args += ["-f", str(page), "-l", str(page)]
    out = subprocess.run([*args, str(src), "-"], capture_output=True, check=True)
    return out.stdout.decode()


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def fresh_font():
    """A font registration that follows the settings of this test, and none left behind."""
    pdf.chinese_font.cache_clear()
    yield
    pdf.chinese_font.cache_clear()


class TestChineseFont:
    def test_default_font_is_embedded_truetype(self):
        data = pdf.board_poster(board())
        assert data.startswith(b"%PDF-")
        assert b"/FontFile2" in data  # an embedded TrueType (subset) program
        assert b"UMingCN" in data
        assert b"STSong-Light" not in data
        assert b"/Helvetica" not in data  # every font in the file is embedded

    def test_streams_are_binary_and_reportlab_setting_is_restored(self):
        before = rl_config.useA85
        data = pdf.board_poster(board())
        assert b"/ASCII85Decode" not in data
        assert rl_config.useA85 == before

    def test_missing_font_file_falls_back_to_stsong_with_warning(
        self, settings, tmp_path, caplog, fresh_font
    ):
        settings.SUNSHINE_PDF_FONT = str(tmp_path / "no-such-font.ttf")
        with caplog.at_level(logging.WARNING, logger="sunshine.publishing.pdf"):
            assert pdf.chinese_font() == "STSong-Light"
        assert "no-such-font.ttf" in caplog.text
        data = pdf.board_poster(board())
        assert data.startswith(b"%PDF-")
        assert b"STSong-Light" in data
        assert b"/FontFile2" not in data

    @pytest.mark.skipif(not NOTO_CFF.exists(), reason="Noto CJK (CFF outlines) not installed")
    def test_cff_font_is_refused_and_falls_back(self, settings, fresh_font):
        settings.SUNSHINE_PDF_FONT = str(NOTO_CFF)
        assert pdf.chinese_font() == "STSong-Light"

    def test_font_file_is_read_once_per_process(self, monkeypatch):
        pdf.board_poster(board())  # registered by now

        def no_second_load(*args, **kwargs):
            raise AssertionError("the font file was parsed again")

        monkeypatch.setattr(pdf, "TTFont", no_second_load)
        assert pdf.board_poster(board()).startswith(b"%PDF-")
        assert pdf.chinese_font() == pdf.chinese_font()

    def test_lazy_table_view_gives_the_same_subset_as_reportlab(self):
        name = pdf.chinese_font()
        if name == pdf.FALLBACK_FONT:
            pytest.skip("no TrueType font on this machine")
        ours = pdfmetrics.getFont(name)
        plain = TTFont("plain-for-test", ours.face.filename, subfontIndex=0)
        codes = [ord(c) for c in "庆盛社区公示栏，。（）ABC123&<>"]
        assert ours.face.makeSubset(codes) == plain.face.makeSubset(codes)


class TestBoardPoster:
    def test_a3_page_is_larger_than_a4(self):
        a4 = media_box(pdf.board_poster(board(), size="A4"))
        a3 = media_box(pdf.board_poster(board(), size="A3"))
        assert a4 == pytest.approx((595.28, 841.89), abs=0.5)
        assert a3[0] > a4[0] and a3[1] > a4[1]
        assert a3 == pytest.approx((841.89, 1190.55), abs=0.5)

    def test_unknown_size_is_refused(self):
        with pytest.raises(ValueError, match="A4 或 A3"):
            pdf.board_poster(board(), size="B5")

    def test_titles_hotline_and_qr_caption_are_real_text(self, tmp_path):
        items = [
            item("二〇二五年特别扶助对象名单", category="特别扶助"),
            item("生育登记办事流程", category="办事流程", summary="当场办结，无需审批。"),
        ]
        text = squeezed(text_of(pdf.board_poster(board(items)), tmp_path))
        assert "庆盛社区公示栏" in text
        assert "睢宁县" in text
        assert "二〇二五年特别扶助对象名单" in text
        assert "生育登记办事流程" in text
        assert "当场办结，无需审批。" in text
        assert "监督投诉电话：0516-88888888" in text
        assert "扫码查看详情、提出异议" in text
        assert "2026" not in text and "2025年3月14日10:30生成" in text

    def test_notice_shows_the_end_of_its_period(self, tmp_path):
        items = [item(is_notice=True, notice_ends=dt.date(2025, 3, 19), origin="凌城镇")]
        text = squeezed(text_of(pdf.board_poster(board(items)), tmp_path))
        assert "公示期至3月19日" in text
        assert "已结束" not in text
        assert "来源：凌城镇" in text

    def test_notice_that_has_ended_says_so(self, tmp_path):
        items = [item(is_notice=True, notice_ends=dt.date(2025, 3, 1))]
        assert "公示期至3月1日（已结束）" in squeezed(
            text_of(pdf.board_poster(board(items)), tmp_path)
        )

    def test_markup_characters_print_as_they_are(self, tmp_path):
        items = [item("关于<试行>办法 & 流程的说明", summary="A&B <b>不加粗</b> 1>0")]
        text = text_of(pdf.board_poster(board(items)), tmp_path)
        assert "关于<试行>办法 & 流程的说明" in text
        assert "A&B <b>不加粗</b> 1>0" in text

    def test_empty_board_says_it_has_no_items(self, tmp_path):
        data = pdf.board_poster(board([]))
        assert pages(data) == 1
        assert "本公示栏暂无公开事项" in text_of(data, tmp_path)

    def test_many_items_continue_on_pages_with_the_header(self, tmp_path):
        items = [
            item(f"第{i}号事项：特别扶助金发放名单", summary="本月发放。" * 20) for i in range(30)
        ]
        data = pdf.board_poster(board(items))
        n = pages(data)
        assert n >= 3
        last = squeezed(text_of(data, tmp_path, page=n))
        assert "庆盛社区公示栏" in last
        assert f"第{n}/{n}页" in last
        assert "监督投诉电话" in last
        everything = squeezed(text_of(data, tmp_path))
        assert all(f"第{i}号事项" in everything for i in range(30))

    def test_very_long_title_and_summary_wrap_without_loss(self, tmp_path):
        title = "关于" + "农村部分计划生育家庭奖励扶助对象" * 8 + "的公示"
        summary = "经村级初审、镇级审核，名单如下：" + "、".join(f"王*{i}" for i in range(400))
        data = pdf.board_poster(board([item(title, summary=summary)]))
        assert pages(data) >= 2  # a summary longer than a page goes on to the next
        # the date sits at the right of the first title line; take it out of the reading order
        text = squeezed(text_of(data, tmp_path)).replace("2025年3月12日", "")
        assert squeezed(title) in text
        assert "王*0、王*1" in text and "王*399" in text

    def test_place_name_too_long_for_the_band_still_prints_whole(self, tmp_path):
        name = "某某县某某镇某某村第十三村民小组" * 2
        assert name + "公示栏" in squeezed(
            text_of(pdf.board_poster(board(place_name=name)), tmp_path)
        )


class TestPagination:
    def test_short_items_are_never_split_over_pages(self):
        m = pdf._metrics(pdf.chinese_font())
        items = [item(f"第{i}号事项", summary="本月发放。" * (i % 9 * 7)) for i in range(40)]
        pages = pdf._paginate(m, items, NOW.date())
        assert len(pages) > 3
        assert not any(kind == "cont" for page in pages for _, kind, _ in page)
        assert sum(kind == "first" for page in pages for _, kind, _ in page) == 40

    def test_long_item_goes_on_with_a_note_and_no_lone_line(self):
        m = pdf._metrics(pdf.chinese_font())
        items = [item("短事项"), item("长名单", summary="、".join(f"王*{i}" for i in range(700)))]
        pages = pdf._paginate(m, items, NOW.date())
        assert len(pages) >= 2
        assert pages[0][0][1] == "first" and pages[0][-1][1] == "text"  # not pushed over whole
        for page in pages[1:]:
            assert page[0][1] == "cont" and page[0][2] == "（接上页）长名单"
            assert sum(kind == "text" for _, kind, _ in page) >= 2


class TestLineBreaking:
    @pytest.fixture
    def metrics(self):
        return pdf._metrics(pdf.chinese_font())

    def test_lines_fit_and_lose_nothing(self, metrics):
        text = (
            "经村（居）民申报、村级初审、镇级审核，现将拟确认的12户奖励扶助对象名单予以公示。" * 5
        )
        lines = pdf._wrap(metrics, text, 10.5, 200)
        assert len(lines) > 5
        assert "".join(lines) == text
        assert all(metrics.width(line, 10.5) <= 200 for line in lines)

    def test_closing_marks_never_start_a_line_and_opening_never_end_one(self, metrics):
        text = "夫妻双方持身份证（原件）、户口簿《复印件》，到便民服务点办理。" * 8
        for width in range(60, 260, 7):
            lines = pdf._wrap(metrics, text, 10.5, width)
            assert "".join(lines) == text
            assert not any(line[0] in pdf._NO_START for line in lines[1:])
            assert not any(line[-1] in pdf._NO_END for line in lines)

    def test_latin_runs_stay_whole_unless_longer_than_a_line(self, metrics):
        lines = pdf._wrap(
            metrics, "网址" * 20 + " https://sunshine.example.gov.cn/p/990101001001/", 10, 120
        )
        assert any("https://" in line for line in lines)
        assert "".join(lines).replace(" ", "").endswith("990101001001/")


class TestQrCode:
    def test_mask_trials_equal_reportlabs(self):
        url = "https://sunshine.example.gov.cn/p/990101001001/"
        qr = QrCodeWidget(url, barLevel="M").qr
        qr.version = qr.calculate_version()
        qr.makeImpl(True, 0)
        n = qr.getModuleCount()
        base = [int("".join("1" if v else "0" for v in row), 2) for row in qr.modules]
        flips = pdf._mask_flips(qr.version, tuple(qr.dataPosIterator()))
        for k in range(8):
            qr.makeImpl(True, k)
            expected = ["".join("1" if v else "0" for v in row) for row in qr.modules]
            assert [
                format(b ^ f, f"0{n}b") for b, f in zip(base, flips[k], strict=True)
            ] == expected

    def test_code_is_reportlabs_for_the_chosen_mask(self):
        url = "https://sunshine.example.gov.cn/p/990101001001/"
        modules = pdf._qr_modules(url)
        qr = QrCodeWidget(url, barLevel="M").qr
        qr.version = qr.calculate_version()
        matches = []
        for k in range(8):
            qr.makeImpl(False, k)
            matches.append(tuple(tuple(bool(v) for v in row) for row in qr.modules) == modules)
        assert matches.count(True) == 1


class TestPostersZip:
    def test_one_pdf_per_board_with_progress(self, tmp_path):
        calls = []
        boards = [("990101001001-庆盛社区.pdf", board()), ("990101001002-王庄村", board([]))]
        path = pdf.posters_zip(boards, progress=lambda done, total: calls.append((done, total)))
        try:
            with zipfile.ZipFile(path) as zf:
                assert zf.namelist() == ["990101001001-庆盛社区.pdf", "990101001002-王庄村.pdf"]
                assert all(zf.read(name).startswith(b"%PDF-") for name in zf.namelist())
        finally:
            path.unlink()
        assert calls == [(0, 2), (1, 2), (2, 2)]

    def test_generator_input_has_no_total_and_names_are_made_safe(self, tmp_path):
        calls = []
        dest = tmp_path / "batch.zip"
        gen = ((name, board()) for name in ["a/b.pdf", "a/b.pdf", "c.pdf"])
        path = pdf.posters_zip(
            gen, size="A3", dest=dest, progress=lambda d, t: calls.append((d, t))
        )
        assert path == dest
        with zipfile.ZipFile(path) as zf:
            assert zf.namelist() == ["a_b.pdf", "a_b-2.pdf", "c.pdf"]
            assert media_box(zf.read("c.pdf"))[0] > 800
        assert calls == [(0, None), (1, None), (2, None), (3, None)]

    def test_failure_leaves_no_temporary_file(self, tmp_path, monkeypatch):
        monkeypatch.setattr(pdf.tempfile, "tempdir", str(tmp_path))

        def boards():
            yield "a.pdf", board()
            raise RuntimeError("selector failed")

        with pytest.raises(RuntimeError):
            pdf.posters_zip(boards())
        assert list(tmp_path.iterdir()) == []


class TestPressCopy:
    args = dict(column="阳光计生专栏", date=dt.date(2025, 3, 12), source="睢宁县卫生健康委员会")

    def test_text_has_column_title_date_paragraphs_and_source(self):
        text = pdf.press_copy_text("特别扶助金足额发放", "第一段。\n\n第二段。", **self.args)
        assert text.splitlines()[:3] == [
            "栏目：阳光计生专栏",
            "特别扶助金足额发放",
            "2025年3月12日",
        ]
        assert "\u3000\u3000第一段。\n\u3000\u3000第二段。" in text
        assert text.rstrip().endswith("（来源：睢宁县卫生健康委员会）")

    def test_pdf_is_a4_with_title_and_source(self, tmp_path):
        data = pdf.press_copy_pdf(
            "特别扶助金足额发放", "全县特别扶助金按时足额发放。" * 200, **self.args
        )
        assert data.startswith(b"%PDF-")
        assert media_box(data) == pytest.approx((595.28, 841.89), abs=0.5)
        assert pages(data) >= 2
        text = squeezed(text_of(data, tmp_path))
        assert "特别扶助金足额发放" in text
        assert "（来源：睢宁县卫生健康委员会）" in text
        assert "阳光计生专栏" in text
