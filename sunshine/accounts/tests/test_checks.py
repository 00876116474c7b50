from django.core.management import call_command

from sunshine.accounts import checks


def test_deploy_check_warns_when_two_factor_login_is_off(settings):
    settings.SUNSHINE_REQUIRE_2FA = False
    assert [w.id for w in checks.two_factor_is_required()] == ["sunshine.accounts.W001"]


def test_deploy_check_is_quiet_when_two_factor_login_is_required(settings):
    settings.SUNSHINE_REQUIRE_2FA = True
    assert checks.two_factor_is_required() == []


def test_check_deploy_reports_it(settings, capsys):
    settings.SUNSHINE_REQUIRE_2FA = False
    call_command("check", "--deploy", "--tag", "security", fail_level="CRITICAL")
    assert "sunshine.accounts.W001" in capsys.readouterr().err
