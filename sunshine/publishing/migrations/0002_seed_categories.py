"""The seed document's list of what is published (公开晒权), as configurable categories."""

from django.db import migrations

CATEGORIES = [
    ("power-flow", "行政权力运行流程图", "各项行政权力的办理流程图", 0),
    (
        "eligibility-notice",
        "拟确认资格名单公示",
        "奖励扶助、特别扶助等资格确认前的公示（原“拟批准名单”）",
        7,
    ),
    ("reward-assistance", "奖励扶助对象", "农村部分计划生育家庭奖励扶助对象名单", 7),
    ("special-assistance", "特别扶助对象", "计划生育家庭特别扶助对象名单", 7),
    ("hardship-relief", "困难家庭救助对象", "计划生育困难家庭救助对象名单", 7),
    ("leadership", "领导分工与申报", "领导班子成员分工、联系电话、家庭成员和财产申报", 0),
    ("organisation", "内设机构", "机关内设机构及职责", 0),
    ("procedures", "办事流程", "各类事项的办事流程与办事指南", 0),
    ("large-expenditure", "大额经费支出", "大额经费支出情况", 0),
    ("vehicle-use", "车辆使用", "公务车辆使用情况", 0),
    ("cadre-appointment", "干部调整", "干部任免与调整", 7),
    ("petitions", "信访办理", "信访事项办理情况", 0),
    ("spokesperson", "网络发言人", "网络发言人发布的权威信息", 0),
]


def seed(apps, schema_editor):
    Category = apps.get_model("publishing", "Category")
    for i, (code, name, description, days) in enumerate(CATEGORIES):
        Category.objects.get_or_create(
            code=code,
            defaults={"name": name, "description": description, "notice_days": days, "position": i},
        )
    apps.get_model("publishing", "PublicationState").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("publishing", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
