"""System checks for staff log-in, reported by `sunshine check --deploy`."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def two_factor_is_required(app_configs=None, **kwargs):
    if settings.SUNSHINE_REQUIRE_2FA:
        return []
    return [
        checks.Warning(
            "两步验证已关闭（SUNSHINE_REQUIRE_2FA=0）：能看到身份证号码和健康信息的工作人员只凭密码即可登录。",
            hint="生产环境请去掉 SUNSHINE_REQUIRE_2FA=0（默认开启）。",
            id="sunshine.accounts.W001",
        )
    ]
