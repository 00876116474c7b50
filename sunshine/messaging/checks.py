"""System checks of the SMS engine, run at start-up by every management command (`sunshine
run`, `migrate`, `run_huey`, `sms-dispatch` …) and by `check --deploy`."""

from django.conf import settings
from django.core import checks

from sunshine.messaging import rules
from sunshine.messaging.backends import uses_provider
from sunshine.messaging.backends.aliyun import SIGNATURE_VERSIONS

HOW = (
    "删除环境变量 SUNSHINE_SMS_CALLBACK_TOKEN，让系统在 var/sms_callback_token 中生成一个；"
    "或设为至少 32 位的随机字符，例如 "
    'python3 -c "import secrets; print(secrets.token_urlsafe(32))" 的输出。'
    "改后在阿里云短信控制台更新回执和上行的推送地址。"
)


def _token_problem() -> str:
    problem = rules.callback_token_problem(settings.SUNSHINE_SMS_CALLBACK_TOKEN)
    return (
        f"短信回执和上行地址的密钥（SUNSHINE_SMS_CALLBACK_TOKEN）太弱：{problem}。"
        if problem
        else ""
    )


@checks.register(checks.Tags.security)
def callback_token_with_provider(app_configs, **kwargs):
    """With a real provider a weak token lets anyone opt residents out, file objections in
    their names and plant receipts: refused."""
    problem = _token_problem()
    if problem and uses_provider():
        return [checks.Error(problem, hint=HOW, id="messaging.E001")]
    return []


@checks.register(checks.Tags.security, deploy=True)
def callback_token_for_deployment(app_configs, **kwargs):
    problem = _token_problem()
    if problem and not uses_provider():
        return [checks.Warning(problem, hint=HOW, id="messaging.W001")]
    return []


@checks.register()
def aliyun_signature_version(app_configs, **kwargs):
    version = getattr(settings, "ALIYUN_SMS_SIGNATURE_VERSION", "v3")
    if uses_provider() and version not in SIGNATURE_VERSIONS:
        return [
            checks.Error(
                f"ALIYUN_SMS_SIGNATURE_VERSION 只能是 v3 或 v2，现在是“{version}”。",
                hint="不设置即为 v3（阿里云推荐的 ACS3-HMAC-SHA256 签名）。",
                id="messaging.E002",
            )
        ]
    return []
