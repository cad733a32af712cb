"""What looks like a credential, by a file's name or by its content: such files never
enter a run folder (which `just aml` uploads), whatever the ignore file says.

A maintained scanner (detect-secrets) was measured here: its import alone takes ~0.22 s,
more than a whole warm `just local`. These are the formats it finds most often, matched
by name (case-insensitively, at any depth) and by a handful of content patterns read from
the start of each copied file.
"""

import re

NAMES = frozenset(
    {
        ".git", ".env", ".netrc", "_netrc", ".pypirc", ".git-credentials", ".dockercfg",
        "credentials.json", "secrets.json", "client_secret.json", "service-account.json",
    }
)  # fmt: skip
PREFIXES = (".env.", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519")
SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".keytab", ".ppk", ".jks")
FOLDERS = frozenset({".ssh", ".azure", ".aws", ".gnupg", ".docker"})

_CONTENT = re.compile(
    rb"|".join(
        [
            rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----",  # PEM, OpenSSH, PGP
            rb"PuTTY-User-Key-File-\d",
            rb"(?i:aws_secret_access_key)\s*[=:]",
            rb"\bAKIA[0-9A-Z]{16}\b",  # AWS access key id
            rb"(?:AccountKey|SharedAccessKey)=[A-Za-z0-9+/]{20,}",  # Azure connection strings
            rb"[?&]sig=[A-Za-z0-9%+/]{20,}",  # Azure SAS tokens
            rb"\"(?:clientSecret|client_secret|private_key)\"\s*:\s*\"[^\"]{8,}\"",
            rb"_authToken\s*=\s*\S+",  # .npmrc
            rb"\bgh[pousr]_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{40,}",
            rb"\bxox[abprs]-[A-Za-z0-9-]{10,}",  # Slack
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
