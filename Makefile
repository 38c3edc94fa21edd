# Everything bootstraps its own virtualenv in .venv, rebuilt when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: repl test bot lint typecheck eval bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## repl: ask the articles in corpus/ interactively (no token needed)
repl: $(STAMP)
	$(BIN)/qabot repl

## test: lint, type-check and run every test
test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

## bot: run the Discord bot (needs DISCORD_TOKEN in .env)
bot: $(STAMP)
	$(BIN)/qabot run

## eval: retrieval quality on the repo's seed questions (and squad-dev when ../shared exists)
SQUAD := ../shared/eval/squad-dev
eval: $(STAMP)
	for mode in --lexical --semantic; do \
	  $(BIN)/qabot eval $$mode eval/seed_questions.jsonl && \
	  $(BIN)/qabot eval $$mode eval/followup_questions.jsonl && \
	  if [ -d $(SQUAD) ]; then \
	    $(BIN)/qabot eval $$mode $(SQUAD)/questions.jsonl && \
	    $(BIN)/qabot eval $$mode $(SQUAD)/unanswerable.jsonl; \
	  fi || exit 1; \
	done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
