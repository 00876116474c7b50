"""Give a demo board `n` published items (run in the bench's child environment)."""

import sys


def main(code: str, n: int) -> None:
    import django

    django.setup()
    from sunshine.accounts.models import User
    from sunshine.places.models import Place
    from sunshine.publishing import selectors, services
    from sunshine.publishing.models import Category

    place = Place.objects.get(code=code)
    clerk, admin = User.objects.get(username="county"), User.objects.get(username="admin")
    categories = list(Category.objects.filter(notice_days=0))
    have = selectors.board_items(place).count()
    for i in range(have, n):
        item = services.item_create(
            actor=clerk,
            category=categories[i % len(categories)],
            place=clerk.place,
            title=f"第{i + 1}号公开事项：关于2026年度人口家庭工作有关情况的通告",
            summary="根据有关规定，现将相关情况公开如下，欢迎群众监督。",
            levels=[place.level],
        )
        services.item_submit(actor=clerk, item=item)
        services.item_publish(actor=admin, item=item)
    print(selectors.board_items(place).count())


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
