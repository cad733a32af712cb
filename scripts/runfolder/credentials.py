"""What looks like a credential, by a file's name or by its content: such files never
enter a run folder (which `just aml` uploads), whatever the ignore file says.

A maintained scanner (detect-secrets) was measured here: its import alone costs more than
a whole warm `just local`. These are the files and formats secret scanners (detect-secrets,
gitleaks, shhgit-style lists) find most often, matched by name (case-insensitively, at any
depth) and by content patterns read from the start of each copied file.
"""

import re

# The usual client credential files of shells, git, package registries, databases, clouds
# and clusters (as secret scanners list them), matched by name in any case.
NAMES = frozenset(
    {
        ".git", ".env", ".envrc", ".netrc", "_netrc", ".git-credentials", ".gitconfig",
        ".pypirc", ".npmrc", ".yarnrc", ".yarnrc.yml", ".gem", ".dockercfg", ".htpasswd",
        ".pgpass", ".my.cnf", ".mylogin.cnf", ".boto", ".s3cfg", ".databrickscfg",
        ".vault-token", ".terraformrc", "terraform.rc", "credentials.tfrc.json",
        "kubeconfig", ".kubeconfig", "rclone.conf", "kaggle.json", "sftp-config.json",
        "credentials", "credentials.json", "credentials.toml", "credentials.yml",
        "credentials.yaml", "credentials.xml", "credentials.db", "access_tokens.db",
        "application_default_credentials.json", "secrets.json", "secrets.toml",
        "secrets.yml", "secrets.yaml", "client_secret.json", "service-account.json",
        "azureprofile.json", "accesstokens.json", "msal_token_cache.json",
        "msal_token_cache.bin", "service_principal_entries.json", "terraform.tfvars",
        ".bash_history", ".zsh_history", ".sh_history", ".psql_history", ".mysql_history",
    }
)  # fmt: skip
PREFIXES = (".env.", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519")
SUFFIXES = (
    ".pem", ".key", ".p8", ".p12", ".pfx", ".keytab", ".ppk", ".jks", ".keystore", ".kdbx",
    ".tfstate", ".tfstate.backup", ".ovpn",
)  # fmt: skip
FOLDERS = frozenset(
    {".ssh", ".azure", ".aws", ".gnupg", ".docker", ".kube", ".oci", ".huggingface", ".dbt"}
)

_CONTENT = re.compile(
    rb"|".join(
        [
            rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----",  # PEM, OpenSSH, PGP
            rb"PuTTY-User-Key-File-\d",
            rb"(?i:aws_secret_access_key)\s*[=:]",
            rb"\bAKIA[0-9A-Z]{16}\b",  # AWS access key id
            rb"(?:AccountKey|SharedAccessKey)=[A-Za-z0-9+/]{20,}",  # Azure connection strings
            rb"[?&]sig=[A-Za-z0-9%+/]{20,}",  # Azure SAS tokens
            rb"\b[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}",  # Entra ID client secrets
            rb"\"(?:clientSecret|client_secret|private_key)\"\s*:\s*\"[^\"]{8,}\"",
            rb"_authToken\s*=\s*\S+",  # .npmrc
            # user:password@ in a URL (not a template: {user}, ${USER}, %s, <user>)
            rb"[a-z][a-z0-9+.-]{1,20}://[^\s/:@'\"{}$%<>]+:[^\s/@'\"{}$%<>]+@[^\s/'\"]+",
            rb"\bgh[pousr]_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{40,}",
            rb"\bglpat-[A-Za-z0-9_-]{20}",  # GitLab
            rb"\bxox[abprs]-[A-Za-z0-9-]{10,}",  # Slack
            rb"https://hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+",
            rb"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}",  # PyPI upload tokens
            rb"\bhf_[A-Za-z]{34}\b",  # Hugging Face
            rb"\bsk-[A-Za-z0-9_-]*[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}",  # OpenAI
            rb"\bAIza[0-9A-Za-z_-]{35}",  # Google API keys
            rb"\bdapi[0-9a-f]{32}\b",  # Databricks
            rb"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",  # JWTs
        ]
    )
)
HEAD_BYTES = 1_000_000  # of each file, read to look for the patterns


def is_credential_name(name: str, is_dir: bool) -> bool:
    """Whether a file or folder of this name holds credentials as a rule."""
    lowered = name.lower()
    return (
        lowered in NAMES
        or lowered.startswith(PREFIXES)
        or lowered.endswith(SUFFIXES)
        or (is_dir and lowered in FOLDERS)
    )


def holds_credential(path: str) -> bool:
    """Whether the start of the file at `path` holds something shaped like a credential."""
    with open(path, "rb") as file:
        return _CONTENT.search(file.read(HEAD_BYTES)) is not None
