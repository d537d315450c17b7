# kabinet: the two commands a newcomer needs are `make dev` and `make test`.

VENV    := .venv
STAMP   := $(VENV)/.installed-$(shell cat scripts/requirements.txt | cksum | cut -d' ' -f1)
PYTHON  ?= python3
export KABINET_PYTHON := $(CURDIR)/$(VENV)/bin/python

.PHONY: dev test venv token lint check fmt size clean

## The project-local Python venv: the AWS emulator (moto, pinned) and cfn-lint.
$(STAMP): scripts/requirements.txt
	@$(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements.txt
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

## The whole API on http://127.0.0.1:3000 (emulator included) until Ctrl-C.
dev: venv
	@cargo run --quiet -p kabinet-local --bin kabinet-local

## A dev ID token: make token EMAIL=anna@school.test NAME='Анна Петрова'
token:
	@cargo run --quiet -p kabinet-local --bin kabinet-local -- token --email "$(or $(EMAIL),admin@school.test)" $(if $(NAME),--name "$(NAME)") $(if $(SUB),--sub "$(SUB)")

## Every test: template lint, formatting, clippy (which type-checks every function
## binary without linking them), unit and integration tests (which start their own
## emulator and gateway).
test: venv
	$(VENV)/bin/cfn-lint infra/template.yaml
	cargo fmt --all --check
	cargo clippy --quiet --workspace --all-targets -- -D warnings
	cargo test -p kabinet -p kabinet-local -p kabinet-tests

lint:
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

## Release size of one endpoint binary, stripped and zipped (as Lambda receives it).
size:
	cargo build --release -p kabinet-functions --bin orgs-get
	@ls -l target/release/orgs-get | awk '{print "binary:", $$5, "bytes"}'
	@cd target/release && $(PYTHON) -c "import zipfile; zipfile.ZipFile('bootstrap.zip', 'w', zipfile.ZIP_DEFLATED, compresslevel=9).write('orgs-get', 'bootstrap')" && ls -l bootstrap.zip | awk '{print "zipped:", $$5, "bytes"}'

clean:
	cargo clean
	rm -rf $(VENV)
