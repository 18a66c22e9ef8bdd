"""Expected problems that a person can fix, as opposed to bugs.

Every domain package derives its expected errors from :class:`UserFacingError`
(bad input, a missing model, an empty knowledge base, a permission refused).
The GUI shows them as a status line and the command line exits with code 2;
any other exception is an internal error: a dialog in the GUI, exit code 1.
"""

from __future__ import annotations


class UserFacingError(Exception):
    """An expected problem; ``str(exc)`` is a sentence fit to show the user."""

    exit_code = 2


class PermissionDenied(UserFacingError):
    """The acting user's role does not allow the action."""
