"""clean_text: invisible characters out of titles, names, objections and table cells."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sunshine.core.text import clean_text, size_text


class TestCleanText:
    @pytest.mark.parametrize(
        "ch", [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]
    )
    def test_right_to_left_overrides_and_isolates_are_removed(self, ch):
        assert clean_text(f"张三{ch}公示.exe") == "张三公示.exe"

    @pytest.mark.parametrize(
        "ch",
        ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\ufeff", "\u2060", "\u00ad", "\u180e"],
    )
    def test_zero_width_and_other_format_characters_are_removed(self, ch):
        assert clean_text(f"王{ch}五") == "王五"

    @pytest.mark.parametrize("ch", ["\x00", "\x01", "\x07", "\x1b", "\x7f", "\x9b"])
    def test_control_characters_are_removed(self, ch):
        assert clean_text(f"a{ch}b") == "ab"
        assert clean_text(f"a{ch}b", multiline=True) == "ab"

    def test_a_lone_surrogate_is_removed(self):
        assert clean_text("a\ud800b") == "ab"

    def test_hangul_fillers_that_draw_nothing_are_removed(self):
        assert clean_text("\u3164\u115f") == ""
        assert clean_text("李\u3164四") == "李四"

    def test_single_line_turns_tabs_and_line_breaks_into_spaces(self):
        assert clean_text(" 标题\t第一\r\n第二\u2028第三 ") == "标题 第一  第二 第三"

    def test_multiline_keeps_line_breaks_and_tabs_and_normalises_them(self):
        assert clean_text("第一段\r\n第二段\r第三段\u2029\t缩进", multiline=True) == (
            "第一段\n第二段\n第三段\n\t缩进"
        )

    def test_visible_spaces_and_chinese_text_are_kept(self):
        assert clean_text("张\u3000三\u00a0丰") == "张\u3000三\u00a0丰"
        assert clean_text("  县卫健委  ") == "县卫健委"

    def test_none_is_empty(self):
        assert clean_text(None) == ""

    @given(st.text())
    def test_nothing_invisible_survives_and_cleaning_twice_changes_nothing(self, text):
        import unicodedata

        once = clean_text(text, multiline=True)
        assert clean_text(once, multiline=True) == once
        assert not [
            c for c in once if unicodedata.category(c) in ("Cc", "Cf", "Cs") and c not in "\n\t"
        ]
        single = clean_text(text)
        assert "\n" not in single and "\t" not in single


class TestSizeText:
    def test_megabytes_and_kilobytes(self):
        assert (size_text(200 * 1024 * 1024), size_text(3000), size_text(5)) == (
            "200 MB",
            "2 KB",
            "1 KB",
        )
