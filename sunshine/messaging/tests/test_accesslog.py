import datetime as dt
from types import SimpleNamespace

from gunicorn.config import Config

from sunshine.messaging.accesslog import TokenMaskingLogger


def test_the_callback_token_never_reaches_the_access_log(settings):
    token = settings.SUNSHINE_SMS_CALLBACK_TOKEN
    path = f"/sms/replies/{token}/"
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": path,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.5",
        "HTTP_REFERER": f"https://example.com{path}",
    }
    resp = SimpleNamespace(status="200 OK", sent=46, headers=[])
    req = SimpleNamespace(headers=[("REFERER", f"https://example.com{path}")])
    atoms = TokenMaskingLogger(Config()).atoms(resp, req, environ, dt.timedelta(seconds=0))
    line = repr(atoms)
    assert token not in line
    assert atoms["r"] == "POST /sms/replies/<token>/ HTTP/1.1"
    assert atoms["U"] == "/sms/replies/<token>/"


def test_sunshine_run_gives_the_simulator_no_secret_on_its_command_line(settings):
    import importlib

    run = importlib.import_module("sunshine.demo.management.commands.run")
    argv = run.Command()._simulator("python", "manage.py", "127.0.0.1", 8000)
    assert argv[argv.index("--platform") + 1] == "http://127.0.0.1:8000"
    assert settings.SUNSHINE_SMS_CALLBACK_TOKEN not in " ".join(argv)
