# kabinet: the two commands a newcomer needs are `make dev` and `make test`.

VENV    := .venv
STAMP   := $(VENV)/.installed-$(shell cat scripts/requirements.txt | cksum | cut -d' ' -f1)
PYTHON  ?= python3
export KABINET_PYTHON := $(CURDIR)/$(VENV)/bin/python

.PHONY: dev seed test test-faults emulator-test venv token template openapi cost lint checkov check fmt size deploy-build deploy-rehearsal bench-coldstart bench-local bench-load bench-export bench-import bench-search client client-deps client-check apilint apilint-deps docs-assets browser-deps clean

# SAM CLI: no telemetry, no update checks (CI and offline machines).
export SAM_CLI_TELEMETRY := 0
export SAM_CLI_DISABLE_UPDATE_CHECK := 1

## The project-local Python venv: the AWS emulator (moto, pinned) and cfn-lint.
$(STAMP): scripts/requirements.txt
	@$(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements.txt
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

## checkov in a venv of its own (scripts/requirements-checkov.txt: its pinned boto3 and
## aws-sam-cli's cannot share one).
CHECKOV_VENV  := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cat scripts/requirements-checkov.txt | cksum | cut -d' ' -f1)
$(CHECKOV_STAMP): scripts/requirements-checkov.txt
	@$(PYTHON) -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements-checkov.txt
	@rm -f $(CHECKOV_VENV)/.installed-* && touch $@

## checkov's CloudFormation checks (SAM included) over the root and every nested stack:
## clean, each check a resource does not meet skipped in the template with its reason
## (Metadata: checkov: skip; the functions' and log groups' written by make template).
## Offline (--skip-download), about 10 seconds.
checkov: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov --framework cloudformation --skip-download --compact --quiet \
	  $(addprefix -f ,infra/template.yaml $(sort $(wildcard infra/stacks/*.yaml)))

## The whole API on http://127.0.0.1:3000 (emulator included) until Ctrl-C; its reference
## page at http://127.0.0.1:3000/docs.
dev: venv docs-assets
	@cargo run --quiet -p kabinet-local --bin kabinet-local

## The API reference page's viewer (Scalar, pinned and checked), into target/docs.
docs-assets:
	@scripts/docs_assets.sh

## A demo school (about 1,900 people) through the API of a running `make dev`; prints
## dev tokens for its admin, a teacher and a parent. Each run makes another school.
seed:
	@cargo run --quiet -p kabinet-local --bin kabinet-local -- seed

## A dev ID token: make token EMAIL=anna@school.test NAME='Анна Петрова'
token:
	@cargo run --quiet -p kabinet-local --bin kabinet-local -- token --email "$(or $(EMAIL),admin@school.test)" $(if $(NAME),--name "$(NAME)") $(if $(SUB),--sub "$(SUB)")

## Regenerates the templates' functions from the route table: the root's
## (infra/template.yaml, below its marker) and the nested stacks' (infra/stacks/).
template:
	@cargo run --quiet -p kabinet-local --bin kabinet-local -- template

## What it costs to run (docs/cost.md), from its inputs in functions/local/src/cost.rs and
## each function's memory in the code; a test fails when the committed file differs.
cost:
	@cargo run --quiet -p kabinet-local --bin kabinet-local -- cost

## Regenerates the OpenAPI document that GET /v1/openapi.json serves, from the route table
## (shared/assets/openapi.json, committed: a unit test fails when it is stale).
OPENAPI := shared/assets/openapi.json
openapi:
	@cargo run --quiet -p kabinet-local --bin kabinet-local -- openapi --write

## Every test: template lint (cfn-lint over the root and the nested stacks, sam validate
## of the root, checkov), the emulator's own tests, formatting, clippy, unit and integration tests (which start their own
## emulator and gateway; one of them fails when a template differs from what the route
## table generates, others count each stack against CloudFormation's limits as SAM
## translates it; one drives headless Chromium
## through the reference page and the mail page), then the TypeScript client's check and
## the API lint (Spectral).
test: venv docs-assets browser-deps
	$(VENV)/bin/cfn-lint infra/template.yaml infra/stacks/*.yaml
	@$(MAKE) --no-print-directory emulator-test
	$(VENV)/bin/sam validate --lint
	@$(MAKE) --no-print-directory checkov
	cargo fmt --all --check
	cargo clippy --quiet --workspace --all-targets -- -D warnings
	cargo test -p kabinet -p kabinet-local -p kabinet-bench -p kabinet-tests
	$(MAKE) --no-print-directory client-check
	$(MAKE) --no-print-directory apilint

## A school day under faults (issue 31; run by .ci/run after `make test`, a few minutes):
## people join by link and invitation, an admin decides, a teacher posts, files are
## uploaded, an export and a roster import run, with about 10% of AWS calls failing by
## kind; then, faults off, every 2xx took effect once, every 503 retried with its
## Idempotency-Key took effect once, no answer was a 500, every mail due went once.
## (The packages `make test` builds, so that their build is reused: the test binaries of
## the others have no such test.)
test-faults: venv
	cargo test -p kabinet -p kabinet-local -p kabinet-bench -p kabinet-tests school_day -- --ignored --nocapture

## The emulator's own tests (scripts/emulator/tests): its patch registry, the moto pin's
## checks, and an emulator with every speed patch off answering as one with them on.
emulator-test: venv
	$(VENV)/bin/python -m unittest discover -s scripts/emulator/tests -t scripts

## The real-browser check's packages (tests/browser: puppeteer-core, which drives the
## machine's Chromium and downloads none).
## (Installed again only when its lock file changes, like the client's.)
BROWSER_STAMP := tests/browser/node_modules/.installed
browser-deps: $(BROWSER_STAMP)
$(BROWSER_STAMP): tests/browser/package-lock.json tests/browser/package.json
	@cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## The typed TypeScript client (clients/typescript): its types regenerated from the
## committed OpenAPI document (which a unit test holds to the route table) must equal the
## committed ones, and the example must compile with `tsc --strict`. `make client`
## rewrites the document and the types after an API change.
CLIENT := clients/typescript
CLIENT_STAMP := $(CLIENT)/node_modules/.installed
client-deps: $(CLIENT_STAMP)
$(CLIENT_STAMP): $(CLIENT)/package-lock.json $(CLIENT)/package.json
	@cd $(CLIENT) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@
client-check: client-deps
	@mkdir -p target
	@cd $(CLIENT) && npx --no-install openapi-typescript ../../$(OPENAPI) --output ../../target/schema.d.ts >/dev/null
	@diff -u $(CLIENT)/src/schema.d.ts target/schema.d.ts || { echo "$(CLIENT)/src/schema.d.ts differs from the API: run make client and commit it" >&2; exit 1; }
	@cd $(CLIENT) && npx --no-install tsc --project tsconfig.json
	@echo "TypeScript client: types up to date, example compiles (tsc --strict)"
client: openapi client-deps
	@cd $(CLIENT) && npx --no-install openapi-typescript ../../$(OPENAPI) --output src/schema.d.ts

## The API lint: Spectral's OpenAPI ruleset and the OWASP API Security Top 10 ruleset
## over the generated document, clean at every severity; what is waived or narrowed is in
## tests/apilint/.spectral.yaml with its reason. Its packages come from its lock file
## (npm ci, again only when the lock file changes).
APILINT := tests/apilint
APILINT_STAMP := $(APILINT)/node_modules/.installed
apilint-deps: $(APILINT_STAMP)
$(APILINT_STAMP): $(APILINT)/package-lock.json $(APILINT)/package.json
	@cd $(APILINT) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@
apilint: apilint-deps
	@cp $(OPENAPI) $(APILINT)/openapi.json
	@cd $(APILINT) && npx --no-install spectral lint --quiet --fail-severity=hint openapi.json
	@echo "API lint (Spectral: spectral:oas, OWASP API Top 10): clean"

## (The docs artifact embeds the viewer: clippy of the workspace needs it fetched.)
lint: docs-assets
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

## The deploy build, as `sam deploy` takes it: `sam build` builds each of the three
## artifacts once (cargo-lambda, release profile) for the functions that run it; the docs'
## embeds the viewer's script (docs-assets). x86_64 here (ARCH=arm64 needs the
## aarch64-unknown-linux-gnu Rust target); the functions land in .aws-sam/build.
ARCH ?= x86_64
deploy-build: venv docs-assets
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/sam build --parameter-overrides Arch=$(ARCH)
	@$(MAKE) --no-print-directory size

## Size of the artifacts as Lambda receives them (stripped, zipped as `bootstrap`): the
## API's (every route, loaded at each cold start: kept under 5 MiB zipped), the workers'
## (under 6 MiB) and the docs' (the reference page with the viewer's script: under 3 MiB).
ARTIFACTS := kabinet kabinet-worker kabinet-docs
size:
	@for a in $(ARTIFACTS); do test -f target/lambda/$$a/bootstrap || { echo "no artifact $$a: run make deploy-build" >&2; exit 1; }; done
	@$(PYTHON) scripts/artifact_size.py $(addprefix target/lambda/,$(ARTIFACTS))

## The deploy rehearsed with no AWS account (after deploy-build): the templates translated
## by SAM's translator and created as stacks, nested ones included, in an emulator of its
## own (moto's CloudFormation), the artifacts uploaded to its S3; what moto does not model
## (API Gateway v2, Cognito, ...) is stubbed and listed. Then a test compares every
## function in its Lambda and IAM with the route table. LAMBDA_DIR: the built artifacts.
LAMBDA_DIR ?= target/lambda
deploy-rehearsal: venv
	$(VENV)/bin/python scripts/deploy_rehearsal.py --artifacts $(LAMBDA_DIR) --out target/deploy-rehearsal.json
	KABINET_REHEARSAL=$(CURDIR)/target/deploy-rehearsal.json cargo test --quiet -p kabinet -p kabinet-local -p kabinet-tests --test api rehearsal:: -- --ignored

## Cold start of the artifact (function orgs-get, against the emulator) against a bare
## lambda_http function with the same profile: fake Lambda Runtime API, medians.
bench-coldstart: venv
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo lambda build --release --bin kabinet
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo lambda build --release --bin bare
	cargo build --quiet -p kabinet-local --bin kabinet-local
	$(VENV)/bin/python bench/coldstart.py --artifact target/lambda/kabinet/bootstrap --bare target/lambda/bare/bootstrap

## The local stack under load: a stack of its own grown to ITEMS table items with small
## schools through the API; at each size the p50/p99 of POST and GET members and the
## emulator's memory. ITEMS=1000,10000,100000 by default (about 20 minutes).
## With CLIENTS (make bench-load CLIENTS=50 SECONDS=120): concurrent, that many people at
## once doing a school day's mix of reads and writes for SECONDS after a school is seeded
## (SCHOOLS=1); requests/s and per route family p50/p99/max, 4xx and 5xx (goal 0).
## FAULTS=<spec> adds a round with the emulator's faults on (KABINET_EMULATOR_FAULTS's
## form); URL=http://127.0.0.1:3000 loads a running `make dev` instead (EMULATOR=<its
## emulator's address> for faults and stats).
ITEMS ?= 1000,10000,100000
SECONDS ?= 120
SCHOOLS ?= 1
bench-load bench-local: venv
	cargo run --quiet -p kabinet-bench -- load $(if $(CLIENTS),--clients $(CLIENTS) --seconds $(SECONDS) --schools $(SCHOOLS) $(if $(FAULTS),--faults '$(FAULTS)') $(if $(URL),--url $(URL)) $(if $(EMULATOR),--emulator $(EMULATOR)),--items $(ITEMS))

## The exporter under load (issue 14): an emulator of its own holding an organization of
## each size in MEMBERS (teachers and staff, written straight into the table), whose
## employees export is built as CSV and as XLSX, each in a fresh process: rows per second
## with and without the time spent waiting on the emulator, and peak resident memory,
## against the goals. The release build, as the Lambda artifact runs (its first build
## takes minutes on 2 cores). The default sizes take about 10 minutes, nearly all the emulator's.
MEMBERS ?= 1000,10000,100000
bench-export: venv
	cargo run --release --quiet -p kabinet-bench -- export --members $(MEMBERS)

## The importer under load (issue 15): an emulator of its own; at each size in USERS a
## generated OneRoster 1.1 zip of that many users (students, guardians, teachers, their
## classes and enrollments) imported into an organization of its own, then again (every
## row unchanged), each import in a fresh process: rows per second, rows per CPU second
## and peak resident memory (flat as the file grows). Then adversarial uploads (20 M blank
## lines, a 300 MB quoted field, 5 M rows of `,,,`, a zip of 2 M entries), each in a fresh
## process, their outcome checked and peak memory shown beside the clean file's. The
## release build. The emulator takes nearly all the time: 100,000 users take far longer
## than 1,000 and 10,000.
USERS ?= 1000,10000
ADVERSARIAL ?= yes
bench-import: venv
	cargo run --release --quiet -p kabinet-bench -- import --users $(USERS) $(if $(filter no,$(ADVERSARIAL)),--no-adversarial)

## Finding members (issue 28): a school of 2,000 members written straight into the table
## (memberships and their search items), each search paged to its end as an admin and as
## a teacher: DynamoDB calls and search items read per page, each person found once, and
## no Scan. About 80 seconds, nearly all the emulator's.
bench-search: venv
	cargo test -p kabinet-tests --test api roundtrips::searching_a_school -- --ignored --nocapture

clean:
	cargo clean
	rm -rf $(VENV) $(CHECKOV_VENV) .aws-sam
