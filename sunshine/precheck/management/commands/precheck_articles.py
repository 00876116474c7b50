"""`manage.py precheck_articles`: load the initial 好孕好运 articles (seed_articles.py),
published, when the installation has none; otherwise change nothing."""

from django.core.management.base import BaseCommand

from sunshine.precheck import content


class Command(BaseCommand):
    help = "载入好孕好运初始文章（健康教育、服务流程、注意事项）；已有文章时不做任何改动。"

    def handle(self, *args, **options):
        created = content.articles_ensure(actor=None)
        if created:
            self.stdout.write(self.style.SUCCESS(f"已载入并发布{created}篇好孕好运文章。"))
        else:
            self.stdout.write("已有好孕好运文章，没有改动。")
