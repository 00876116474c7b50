"""Posters per second of the board poster (sunshine.publishing.pdf.board_poster), against bare
reportlab pages of the same text.

Builds its own boards (400, or 120 with --quick) of 5–12 items of generated Chinese text, then
times, in the same process and with the same registered font (the setting SUNSHINE_PDF_FONT,
embedded as a subset):

- value: `board_poster(board)` for every board (layout, line breaking, QR code, continuation
  pages when the items do not fit on one);
- baseline: one bare reportlab canvas page per board that draws the same strings with
  `drawString`, one line each (long summaries cut into lines beforehand, untimed), then saves.

The two are timed board by board in turn (a bare page, then the poster), so that other work
on the machine weighs on both alike; 3 rounds (1 with --quick), the best round of each counts. Progress
goes to stderr; one JSON line goes last on stdout:

    DJANGO_SETTINGS_MODULE=config.settings .venv/bin/python bench/posters.py --quick  # ~15 s
    DJANGO_SETTINGS_MODULE=config.settings .venv/bin/python bench/posters.py          # ~1 min

Goal: ratio >= 0.5.
"""

import argparse
import datetime as dt
import io
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from sunshine.publishing import pdf  # noqa: E402

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2025, 3, 20, 9, 30, tzinfo=TZ)

TOWNS = ["凌城镇", "庆安镇", "沙集镇", "梁集镇", "岚山镇", "高作镇", "桃园镇", "双沟镇", "王集镇"]
PLACE_PARTS = "安庆兴和平丰新河东西南北前后王李张刘湖岗桥营楼庄圩集"
CATEGORIES = [
    "奖励扶助",
    "特别扶助",
    "困难家庭救助",
    "办事流程",
    "大额经费支出",
    "车辆使用",
    "干部调整",
    "信访办理",
    "行政权力运行流程图",
    "领导分工",
    "内设机构",
]
TITLES = [
    "{year}年第{q}季度农村部分计划生育家庭奖励扶助对象拟确认名单公示",
    "{town}{year}年计划生育特别扶助对象资格确认结果公示",
    "关于{name}等{n}户困难家庭救助申请的公示",
    "{town}卫健办{year}年度大额经费支出情况公开",
    "生育登记办事流程（{year}年修订）",
    "{town}公务车辆使用情况（{year}年{m}月）",
    "关于{name}同志任职的公告",
    "{year}年{m}月信访事项办理情况通报",
    "孕前优生健康检查免费服务项目及流程",
    "{town}卫生健康办公室领导班子分工及办公电话",
]
SENTENCES = [
    "经村（居）民申报、村级初审、镇级审核，现将拟确认的{n}户对象名单予以公示。",
    "公示期内如有异议，请向{town}卫健办或县卫生健康委员会反映，我们将认真核实并答复。",
    "本次共发放扶助金{money}元，资金已通过“一卡通”直接发放到户，不经任何中间环节。",
    "夫妻双方持身份证、户口簿，到户籍地或现居住地村（社区）便民服务点即可办理，当场办结。",
    "单笔5000元以上的经费支出共{n}笔，合计{money}元，主要用于宣传、走访慰问和技术服务。",
    "根据工作需要，经研究决定，{name}同志任{town}卫生健康办公室副主任，试用期一年。",
    "{m}月份受理群众来信来访{n}件，已全部办结，按期办结率100%，群众满意率98%。",
    "免费孕前优生健康检查包括健康教育、病史询问、体格检查、临床实验室检查和风险评估。",
    "办理时限：材料齐全的即时办结；需要调查核实的，在{n}个工作日内办结，全程不收取任何费用。",
    "监督电话设在县卫生健康委员会，工作日上午8:30—12:00、下午14:30—17:30有专人接听。",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"


def make_boards(n: int, seed: int = 20250320) -> list[pdf.Board]:
    rng = random.Random(seed)

    def fill(template: str) -> str:
        return template.format(
            year=rng.choice([2024, 2025]),
            q=rng.randint(1, 4),
            m=rng.randint(1, 12),
            n=rng.randint(2, 60),
            money=f"{rng.randint(3, 900) * 100:,}",
            town=rng.choice(TOWNS),
            name=rng.choice(SURNAMES) + "*" + rng.choice("明华军芳强丽伟静"),
        )

    boards = []
    for i in range(n):
        place = "".join(rng.sample(PLACE_PARTS, 2)) + rng.choice(["村", "社区", "居委会", "组"])
        items = []
        for _ in range(rng.randint(5, 12)):
            notice = rng.random() < 0.35
            day = NOW.date() - dt.timedelta(days=rng.randint(0, 90))
            summary = "".join(fill(s) for s in rng.sample(SENTENCES, rng.randint(1, 3)))
            items.append(
                pdf.PosterItem(
                    title=fill(rng.choice(TITLES)),
                    date=day,
                    category=rng.choice(CATEGORIES),
                    summary=summary,
                    is_notice=notice,
                    notice_ends=day + dt.timedelta(days=7) if notice else None,
                    origin=rng.choice(["", "", "", "睢宁县", rng.choice(TOWNS)]),
                )
            )
        boards.append(
            pdf.Board(
                place_name=place,
                level_label=rng.choice(["村（社区）", "村民小组", "单位", "居住地"]),
                county_name="睢宁县",
                url=f"https://sunshine.example.gov.cn/p/99010{i:07d}/",
                items=items,
                hotline="0516-88888888",
                generated_at=NOW,
            )
        )
    return boards


def board_lines(board: pdf.Board) -> list[str]:
    """The board's strings as the baseline draws them: one line each, summaries cut at 40."""
    lines = [f"{board.place_name}公示栏", board.county_name, board.level_label]
    for item in board.items:
        lines += [item.category, item.title, f"{item.date:%Y年%m月%d日}"]
        if item.notice_ends:
            lines.append(f"公示期至 {item.notice_ends:%m月%d日}")
        lines += [item.summary[i : i + 40] for i in range(0, len(item.summary), 40)]
    lines += [f"监督投诉电话：{board.hotline}", board.url]
    return lines


def bare_page(font: str, lines: list[str]) -> bytes:
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4)
    c.setFont(font, 10)
    y = 800.0
    for line in lines:
        c.drawString(40, y, line)
        y -= 11
    c.showPage()
    c.save()
    return buf.getvalue()


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def interleaved(boards: list[pdf.Board], lines: list[list[str]], font: str, size: str):
    """Seconds for all posters and for all bare pages, board by board in turn.

    Alternating keeps the two under the same conditions when other work shares the machine.
    """
    t_poster = t_bare = 0.0
    step = max(1, len(boards) // 4)
    clock = time.perf_counter
    for i, (board, ls) in enumerate(zip(boards, lines, strict=True), 1):
        t0 = clock()
        bare_page(font, ls)
        t1 = clock()
        pdf.board_poster(board, size=size)
        t2 = clock()
        t_bare += t1 - t0
        t_poster += t2 - t1
        if i % step == 0 and i < len(boards):
            log(f"  {i}/{len(boards)} boards")
    return t_poster, t_bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="120 boards, one round (~15 s)")
    parser.add_argument("--boards", type=int, help="number of boards (default 400, quick 120)")
    parser.add_argument("--rounds", type=int, help="rounds of each (default 3, quick 1)")
    parser.add_argument("--size", default="A4", choices=["A4", "A3"])
    args = parser.parse_args()
    n = args.boards or (120 if args.quick else 400)
    rounds = args.rounds or (1 if args.quick else 3)

    started = time.perf_counter()
    font = pdf.chinese_font()
    log(f"font {font} registered in {time.perf_counter() - started:.2f} s")
    boards = make_boards(n)
    lines = [board_lines(b) for b in boards]
    items = sum(len(b.items) for b in boards)
    chars = sum(len(s) for ls in lines for s in ls)
    log(f"{n} boards, {items} items, {chars:,} characters of board text")

    # warm up both paths (font subsets, metrics caches) on boards outside the timed set
    spare = make_boards(20, seed=1)
    for b in spare:
        pdf.board_poster(b, size=args.size)
        bare_page(font, board_lines(b))
    pages = sum(pdf.board_poster(b, size=args.size).count(b"/Type /Page\n") for b in spare)
    log(f"posters of 20 such boards have {pages} pages in all")

    best_poster = best_bare = float("inf")
    for r in range(1, rounds + 1):
        log(f"round {r}/{rounds}: a bare page and a poster ({args.size}) for each board")
        pdf._qr_modules.cache_clear()  # every round draws every QR code afresh
        t_poster, t_bare = interleaved(boards, lines, font, args.size)
        best_poster, best_bare = min(best_poster, t_poster), min(best_bare, t_bare)
        log(f"  posters {n / t_poster:.1f}/s, bare pages {n / t_bare:.1f}/s")

    value = n / best_poster
    baseline = n / best_bare
    print(
        json.dumps(
            {
                "bench": "posters",
                "value": round(value, 1),
                "unit": "posters/s",
                "baseline": round(baseline, 1),
                "ratio": round(value / baseline, 3),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
