"""The only exception hierarchy of Truceline.

Every message is one line in the form ``file: key/row: problem``.
"""

from __future__ import annotations

from collections.abc import Sequence


class TrucelineError(Exception):
    """Base class of every error Truceline raises on purpose."""


class ManifestError(TrucelineError, ValueError):
    """A scenario manifest or one of its geometry files is invalid."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class GeometryFileError(ManifestError):
    """A geometry file cannot be read safely or holds no usable geometry."""


class InputError(TrucelineError, ValueError):
    """A value a user gave (a role, a status, a password, an option) is not acceptable."""


class ReaderError(TrucelineError, ValueError):
    """An incident file cannot be read at all (rows with problems are not errors)."""


class DateOrderError(ReaderError):
    """A file's dates (``09/05/2014``) do not settle their day/month order: it must be chosen."""


class StoreError(TrucelineError, OSError):
    """The store cannot be opened, migrated or written."""


class NotFoundError(TrucelineError, LookupError):
    """A record asked for by id does not exist."""


class PermissionDeniedError(TrucelineError, PermissionError):
    """The acting user's role does not allow this operation."""


class AuthenticationError(TrucelineError, PermissionError):
    """A login failed, was rate-limited, or a session expired."""


class BatchError(InputError):
    """A posted batch has the wrong shape; nothing was stored. ``problems`` lists each problem."""

    def __init__(self, problems: Sequence[object]) -> None:
        self.problems = list(problems)
        more = f" ({len(self.problems)} problems in all)" if len(self.problems) > 1 else ""
        super().__init__(f"{self.problems[0]}{more}")
