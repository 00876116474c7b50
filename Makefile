# Sunshine (阳光) — the two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
# The demo's shared sample logins sign in with the password alone; production requires the
# second factor. `make demo SUNSHINE_REQUIRE_2FA=1` shows the authenticator enrolment.
SUNSHINE_REQUIRE_2FA ?= 0
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: demo test lint format check install install-dev bench browsers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(STAMP)

install: $(STAMP)
install-dev: $(DEVSTAMP)

demo: $(STAMP)
	$(BIN)/sunshine migrate --noinput -v 0
	$(BIN)/sunshine build-demo --seed 1 --residents 20000 --if-absent
	@echo "演示账号：admin / county / town / village / doctor / hospital / operator / inspector / observer，密码 sunshine2026"
	@echo "两步验证：SUNSHINE_REQUIRE_2FA=$(SUNSHINE_REQUIRE_2FA)（生产环境默认开启；make demo SUNSHINE_REQUIRE_2FA=1 可体验绑定验证器）"
	PORT=$(PORT) SUNSHINE_REQUIRE_2FA=$(SUNSHINE_REQUIRE_2FA) $(BIN)/sunshine run --port $(PORT)

lint: $(DEVSTAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint templates sunshine --lint --quiet

format: $(DEVSTAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/djlint templates sunshine --reformat --quiet || true

check: $(DEVSTAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check

test: lint check
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(DEVSTAMP)
	$(BIN)/python bench/portal.py --quick

clean:
	rm -rf $(VENV) var
