# Azure ML experiments: run `just` to list the recipes.
# Each recipe is one line into scripts/; `just CMD --help` shows a command's options.

set positional-arguments

# Inside `uv run` (or an activated .venv) use that interpreter directly; else go through uv.
# Recipes `exec` their command: SIGTERM, which just passes to its child, then reaches it.
python := if env("VIRTUAL_ENV", "") == "" { "uv run --frozen python" } else { "python" }

[private]
default:
    @{{just_executable()}} --justfile {{justfile()}} --list --unsorted

# `just sync [NAME]`: the tooling into .venv, or experiment NAME's own NAME/.venv (for your editor)
[no-exit-message]
[group('setup')]
sync *ARGS:
    @exec {{python}} -m scripts.sync "$@"

# `just new NAME [--from EXP]`: a new experiment, ready to run, submit and test
[no-exit-message]
[group('setup')]
new *ARGS:
    @exec {{python}} -m scripts.new "$@"

# `just rm NAME [--yes]`: remove an experiment (its runs and MLflow records stay)
[no-exit-message]
[group('setup')]
rm *ARGS:
    @exec {{python}} -m scripts.rm "$@"

# `just import JOB_FILE [NAME]`: a new experiment from an Azure ML job (or pipeline) YAML and its code
[no-exit-message]
[group('setup')]
import *ARGS:
    @exec {{python}} -m scripts.import_job "$@"

# `just iso EXP [-f FILE]`: pack EXP into runs/EXP/<run>/ exactly as an Azure ML job receives it
[no-exit-message]
[group('run')]
iso *ARGS:
    @exec {{python}} -m scripts.iso "$@"

# `just local EXP [-f FILE] [--set K=V]... [--docker] [--track local|workspace]`: run EXP's job, pipeline or sweep as Azure ML would, tracked locally (or on the team's MLflow)
[no-exit-message]
[group('run')]
local *ARGS:
    @exec {{python}} -m scripts.local "$@"

# `just aml EXP [--set K=V]... [-f FILE] [--dry-run] [--stream] [--exp MSG]`: submit EXP to Azure ML
[no-exit-message]
[group('run')]
aml *ARGS:
    @exec {{python}} -m scripts.aml "$@"

# `just fetch RUN_DIR|JOB_NAME [--outputs NAME...|--all] [--wait]`: a cloud job's status, metrics, logs (and outputs) into runs/
[no-exit-message]
[group('run')]
fetch *ARGS:
    @exec {{python}} -m scripts.fetch "$@"

# `just data-register PATH --name NAME [--version V]`: upload and register a data asset
[no-exit-message]
[group('data')]
data-register *ARGS:
    @exec {{python}} -m scripts.data_register "$@"

# `just data-download NAME[:VERSION|@latest]`: a data asset into data/NAME/VERSION/ (resumable)
[no-exit-message]
[group('data')]
data-download *ARGS:
    @exec {{python}} -m scripts.data_download "$@"

# `just data-list [NAME] [--local]`: registered data assets (or NAME's versions); --local: data/
[no-exit-message]
[group('data')]
data-list *ARGS:
    @exec {{python}} -m scripts.data_list "$@"

# `just docker-build [devcontainer|job-runner] [EXP]`: build the project's images (tags printed)
[no-exit-message]
[group('docker')]
docker-build *ARGS:
    @exec {{python}} -m scripts.docker_build "$@"

# Build local base images for machines without an image registry; recorded in .env.local
[no-exit-message]
[group('docker')]
docker-base *ARGS:
    @exec {{python}} -m scripts.docker_base "$@"

# `just runs [EXP] [--compare RUN RUN...]`: local and fetched cloud runs, newest first, with status, duration and final metrics
[no-exit-message]
[group('runs')]
runs *ARGS:
    @exec {{python}} -m scripts.runs "$@"

# `just rerun RUN_DIR`: run a run folder again exactly as recorded, as a new run
[no-exit-message]
[group('runs')]
rerun *ARGS:
    @exec {{python}} -m scripts.rerun "$@"

# `just clean [--envs] [--runs-older-than DAYS] [--dry-run]`: free disk (never MLflow records, never a running run)
[no-exit-message]
[group('runs')]
clean *ARGS:
    @exec {{python}} -m scripts.clean "$@"

# `just ui [--port N]`: the MLflow UI over runs/mlflow.db on 127.0.0.1 (default port 5000)
[no-exit-message]
[group('runs')]
ui *ARGS:
    @exec {{python}} -m scripts.ui "$@"

# Check formatting, lint and types (ruff, mypy) as CI does
[no-exit-message]
[group('check')]
lint *ARGS:
    @exec {{python}} -m scripts.lint "$@"

# Apply ruff's formatting and fixes
[no-exit-message]
[group('check')]
fmt:
    @exec {{python}} -m scripts.lint --fix

# `just docs [--serve [--port N]]`: build the documentation strictly (or preview it on 127.0.0.1)
[no-exit-message]
[group('check')]
docs *ARGS:
    @exec {{python}} -m scripts.docs "$@"

# `just test [--fast] [TARGET] [PYTEST_ARGS]`: tests/ and each experiment's tests/, each in its own environment
[no-exit-message]
[group('check')]
test *ARGS:
    @exec {{python}} -m scripts.test "$@"

# Measure local-run overhead and isolation speed [--repeats N]
[no-exit-message]
[group('check')]
bench *ARGS:
    @exec {{python}} -m scripts.bench "$@"
