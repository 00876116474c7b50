"""The callback token: generated into var/, and a weak one refused at start-up with the
aliyun backend (a system check that `check --deploy` reports)."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError

STRONG = "Qm9kZSBpcyBub3QgYSBzZWNyZXQgYnV0IHRoaXMgaXM"


def check(*args):
    call_command("check", *args, "--fail-level", "WARNING", stdout=io.StringIO())


class TestStartUpCheck:
    def test_a_weak_token_with_the_aliyun_backend_stops_start_up(self, settings):
        settings.SUNSHINE_SMS_BACKEND = "aliyun"
        for weak in ("local", "changeme-changeme-changeme-changeme", "a" * 64, ""):
            settings.SUNSHINE_SMS_CALLBACK_TOKEN = weak
            with pytest.raises(SystemCheckError, match=r"messaging\.E001"):
                call_command("check", stdout=io.StringIO())

    def test_check_deploy_reports_it_too(self, settings):
        settings.SUNSHINE_SMS_BACKEND = "aliyun"
        settings.SUNSHINE_SMS_CALLBACK_TOKEN = "local"
        with pytest.raises(SystemCheckError, match=r"messaging\.E001"):
            check("--deploy", "--tag", "security")

    def test_with_the_simulator_check_deploy_warns(self, settings):
        settings.SUNSHINE_SMS_CALLBACK_TOKEN = "local"
        call_command("check", stdout=io.StringIO())  # a developer is not stopped
        with pytest.raises(SystemCheckError, match=r"messaging\.W001"):
            check("--deploy", "--tag", "security")

    def test_a_strong_token_passes(self, settings):
        settings.SUNSHINE_SMS_BACKEND = "aliyun"
        settings.SUNSHINE_SMS_CALLBACK_TOKEN = STRONG
        call_command("check", stdout=io.StringIO())

    def test_an_unknown_signature_version_stops_start_up(self, settings):
        settings.SUNSHINE_SMS_BACKEND = "aliyun"
        settings.SUNSHINE_SMS_CALLBACK_TOKEN = STRONG
        settings.ALIYUN_SMS_SIGNATURE_VERSION = "v1"
        with pytest.raises(SystemCheckError, match=r"messaging\.E002"):
            call_command("check", stdout=io.StringIO())


def token_in(var_dir: Path, **env) -> str:
    code = "from django.conf import settings; print(settings.SUNSHINE_SMS_CALLBACK_TOKEN)"
    environ = {k: v for k, v in os.environ.items() if k != "SUNSHINE_SMS_CALLBACK_TOKEN"}
    environ.update(SUNSHINE_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="config.settings", **env)
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=django_settings.BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


class TestGeneratedToken:
    def test_generated_once_into_var_and_kept(self, tmp_path):
        first = token_in(tmp_path)
        assert first != "local" and len(first) >= 32
        assert (tmp_path / "sms_callback_token").read_text().strip() == first
        assert (tmp_path / "sms_callback_token").stat().st_mode & 0o077 == 0
        assert token_in(tmp_path) == first

    def test_the_environment_wins(self, tmp_path):
        assert token_in(tmp_path, SUNSHINE_SMS_CALLBACK_TOKEN=STRONG) == STRONG
        assert not (tmp_path / "sms_callback_token").exists()
