"""The layout of a run folder, the one place its names are defined:

runs/<experiment>/<run name>/
    <the experiment's files>      code root: the job's working directory
    src/shared/                   the `shared` package, when the experiment depends on it
    environment/                  Docker build context: Dockerfile, requirements.txt,
                                  .python-version
    outputs/                      what the job writes (Azure ML uploads it);
                                  outputs/NAME for each declared output
    logs/std_log.txt              the job's stdout and stderr (`just local`)
    logs/local_mlflow_server.txt  the output of the MLflow server the job logged through,
                                  when its MLflow is another version than the tooling's
    run.json                      the run's manifest (`just local`, see manifest.py)
    mlflow.db, mlartifacts/       the run's own MLflow store and its artifacts, only when
                                  the project's store could not be used
"""

ENVIRONMENT = "environment"
DOCKERFILE = f"{ENVIRONMENT}/Dockerfile"
PYTHON_VERSION = f"{ENVIRONMENT}/.python-version"
REQUIREMENTS = f"{ENVIRONMENT}/requirements.txt"
SHARED = "src/shared"
OUTPUTS = "outputs"
LOGS = "logs"
JOB_LOG = f"{LOGS}/std_log.txt"  # as Azure ML names it
TRACKING_SERVER_LOG = f"{LOGS}/local_mlflow_server.txt"
MANIFEST = "run.json"
MANIFEST_STAGING = f".{MANIFEST}.partial"  # written, then renamed over run.json
FALLBACK_STORE = "mlflow.db"
FALLBACK_ARTIFACTS = "mlartifacts"

RESERVED = (ENVIRONMENT, SHARED)  # an experiment must not have these itself
# What running it adds (SQLite's -wal and -shm files beside a store included).
PRODUCED = (
    OUTPUTS, LOGS, MANIFEST, MANIFEST_STAGING, FALLBACK_STORE, f"{FALLBACK_STORE}-wal",
    f"{FALLBACK_STORE}-shm", FALLBACK_ARTIFACTS,
)  # fmt: skip


def output_folder(name: str) -> str:
    """Where the job's declared output `name` goes, relative to the run folder."""
    return f"{OUTPUTS}/{name}"
