"""The one exception type for mistakes a user can fix.

The CLI prints these as a single line (no traceback); the message names the
problem and the fix.
"""


class UserError(ValueError):
    pass


def first_line(error: BaseException) -> str:
    """The first line of an exception's message (its type when it has none), for one-line errors."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
