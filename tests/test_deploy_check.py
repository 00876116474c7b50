"""`sunshine check --deploy` is the operator's gate: a production configuration as the README
describes it passes with no warning, and the unsafe defaults it exists to catch are named."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PRODUCTION = {
    "SUNSHINE_ALLOWED_HOSTS": "jk.example.gov.cn",
    "SUNSHINE_SECURE_COOKIES": "1",
    "SUNSHINE_SMS_BACKEND": "aliyun",
    "ALIYUN_SMS_ACCESS_KEY_ID": "LTAI-example",
    "ALIYUN_SMS_ACCESS_KEY_SECRET": "example-secret",
}


def _check(tmp_path, **extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SUNSHINE_", "ALIYUN_", "DATABASE_URL", "REDIS_URL"))
        and k
        != "DJANGO_ALLOW_ASYNC_UNSAFE"  # set by the browser tests' conftest, never in production
    }
    env.update(SUNSHINE_VAR_DIR=str(tmp_path), **extra)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_production_configuration_passes_check_deploy_with_no_warning(tmp_path):
    done = _check(tmp_path, **PRODUCTION)
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout + done.stderr


def test_check_deploy_names_what_is_unsafe(tmp_path):
    done = _check(
        tmp_path,
        SUNSHINE_ALLOWED_HOSTS="jk.example.gov.cn",
        SUNSHINE_SMS_BACKEND="aliyun",
        SUNSHINE_SMS_CALLBACK_TOKEN="local",
        SUNSHINE_REQUIRE_2FA="0",
    )
    out = done.stdout + done.stderr
    assert done.returncode != 0  # the weak callback secret is an error with the aliyun backend
    for code in ("messaging.E001", "sunshine.accounts.W001", "security.W004", "security.W012"):
        assert code in out
