"""The one exception type for mistakes a user can fix.

The CLI prints these as a single line (no traceback); the message names the
problem and the fix.
"""


class UserError(ValueError):
    pass
