"""The one exception tree: every error a user can see says what happened and what to do.

    BotdeskError                      user-facing: .message (what happened), .hint (what to do)
    ├── WorkspaceError                the workspace file
    │   ├── NotAWorkspaceError        not a SQLite file, or not one of ours
    │   ├── WorkspaceTooNewError      written by a newer Botdesk; refused, never touched
    │   ├── WorkspaceDamagedError     the file is damaged (truncated, corrupt): restore a backup
    │   ├── WorkspaceReadOnlyError    opened read-only (file or folder not writable): no writes
    │   └── WorkspaceBusyError        another job or program holds the workspace
    ├── SourceError                   a source the user named (missing file, bad URL)
    ├── FetchError                    one crawl item could not be fetched (HTTP, network, limits)
    │   └── BlockedAddressError       a link or redirect to a private/loopback address (SSRF)
    ├── ExtractionError               a document's content could not be extracted (broken PDF, ...)
    │   └── NoTextError               the document has no text layer ("no text, scanned?")
    ├── ProviderError                 a model back-end (Ollama, Mistral) failed
    │   ├── ProviderUnavailableError  server down or unreachable
    │   ├── ModelNotFoundError        model not pulled / unknown
    │   ├── AuthenticationError       key missing or rejected
    │   ├── RateLimitedError          429 after our retries
    │   ├── ProviderTimeoutError      no answer in time
    │   ├── InputTooLongError         over the model's context
    │   └── BadResponseError          the back-end answered something we cannot use
    ├── PublishError                  the hosted endpoint refused or failed
    ├── ConfigError                   a setting or the widget config is invalid
    ├── SecretStoreError              no usable keyring and no environment variable
    └── CancelledError                the user cancelled a job

Foreign errors (httpx, ollama, mistralai, pypdf, apsw) are translated at the boundary
where they occur; anything else reaching the UI is a bug and gets the crash dialog.
Messages never contain a secret.
"""

from __future__ import annotations


class BotdeskError(Exception):
    """Base of every error a user may see."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip() if self.hint else self.message


class WorkspaceError(BotdeskError):
    """The workspace file cannot be used."""


class NotAWorkspaceError(WorkspaceError):
    """The file is not a Botdesk workspace."""


class WorkspaceTooNewError(WorkspaceError):
    """The workspace was written by a newer Botdesk."""


class WorkspaceDamagedError(WorkspaceError):
    """The workspace file is damaged (truncated, overwritten, a bad disk)."""


class WorkspaceReadOnlyError(WorkspaceError):
    """A write to a workspace opened read-only."""


class SourceError(BotdeskError):
    """A source the user named cannot be used."""


class FetchError(BotdeskError):
    """One item could not be fetched."""

    def __init__(self, message: str, *, hint: str = "", reason: str = "error") -> None:
        super().__init__(message, hint=hint)
        # A short machine-readable reason for sync summaries: http-404, timeout, size, ...
        self.reason = reason


class BlockedAddressError(FetchError):
    """A link or redirect pointed at an address the crawl may not reach."""


class ExtractionError(BotdeskError):
    """A document's content could not be extracted."""


class NoTextError(ExtractionError):
    """The document has no extractable text (a scanned PDF, an empty page)."""


class ProviderError(BotdeskError):
    """A model back-end failed."""


class ProviderUnavailableError(ProviderError):
    """The back-end cannot be reached."""


class ModelNotFoundError(ProviderError):
    """The model does not exist on the back-end."""


class AuthenticationError(ProviderError):
    """The API key is missing or was rejected."""


class RateLimitedError(ProviderError):
    """Still rate-limited after retrying."""

    def __init__(self, message: str, *, hint: str = "", retry_after: float | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class ProviderTimeoutError(ProviderError):
    """The back-end did not answer in time."""


class InputTooLongError(ProviderError):
    """The input exceeds the model's context."""


class BadResponseError(ProviderError):
    """The back-end answered something unusable (wrong vector size, malformed JSON)."""


class PublishError(BotdeskError):
    """The hosted endpoint refused or failed; `step` names the call (upload bundle, ...)."""

    def __init__(
        self, message: str, *, hint: str = "", status: int | None = None, step: str = ""
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.step = step


class ConfigError(BotdeskError):
    """A setting is invalid."""


class SecretStoreError(BotdeskError):
    """No secret store and no environment variable to fall back on."""


class CancelledError(BotdeskError):
    """The user cancelled the job."""

    def __init__(self, message: str = "Cancelled.", *, hint: str = "") -> None:
        super().__init__(message, hint=hint)
