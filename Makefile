# Everything bootstraps its own virtualenv in .venv, rebuilt when pyproject.toml changes.
# Two stamps: the runtime (make repl, make bot, make venv) and the development tools on top
# of it (make test, lint, typecheck, eval), so a server never installs pytest or mypy.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
# Creates .venv if need be and installs with uv, or pip (QABOT_INSTALLER=pip): see the script.
INSTALL := scripts/venv-install $(VENV) $(PYTHON)

.PHONY: venv repl test bot lint typecheck eval bench env-example clean

$(RUNTIME): pyproject.toml
	$(INSTALL) -e .
	touch $(RUNTIME)

$(DEV): $(RUNTIME)
	$(INSTALL) -e ".[dev]"
	touch $(DEV)

## venv: install the runtime only (what a server needs: the systemd unit uses this)
venv: $(RUNTIME)

## repl: ask the articles in corpus/ interactively (no token needed)
repl: $(RUNTIME)
	$(BIN)/qabot repl

## test: lint, type-check and run every test
test: $(DEV) lint typecheck
	$(BIN)/python -m pytest -q

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(DEV)
	$(BIN)/mypy

## bot: run the Discord bot (needs DISCORD_TOKEN in .env)
bot: $(RUNTIME)
	$(BIN)/qabot run

## env-example: write .env.example from the settings declared in bot/settings.py
env-example: $(RUNTIME)
	$(BIN)/python -m bot.settings > .env.example

## eval: retrieval quality on the repo's seed questions (and squad-dev when ../shared exists)
SQUAD := ../shared/eval/squad-dev
eval: $(RUNTIME)
	for mode in --lexical --semantic; do \
	  $(BIN)/qabot eval $$mode eval/seed_questions.jsonl && \
	  $(BIN)/qabot eval $$mode eval/followup_questions.jsonl && \
	  $(BIN)/qabot eval $$mode eval/wording_questions.jsonl && \
	  $(BIN)/qabot eval $$mode --corpus eval/news eval/news_questions.jsonl && \
	  $(BIN)/qabot eval $$mode eval/followup2_questions.jsonl && \
	  $(BIN)/qabot eval $$mode --corpus eval/followup2 eval/followup2_news_questions.jsonl && \
	  $(BIN)/qabot eval $$mode --corpus eval/followup3 eval/followup3_questions.jsonl && \
	  if [ -d $(SQUAD) ]; then \
	    $(BIN)/qabot eval $$mode $(SQUAD)/questions.jsonl && \
	    $(BIN)/qabot eval $$mode $(SQUAD)/unanswerable.jsonl; \
	  fi || exit 1; \
	done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
