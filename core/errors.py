"""The small family of errors swarmscope raises on purpose.

Each one carries a message a user can act on in one line; the CLI prints it
as-is instead of a traceback.
"""


class SwarmscopeError(Exception):
    """Base of every error the user should see as one line, not a traceback."""


class ConfigError(SwarmscopeError):
    """A setting, argument or endpoint is wrong; the message says how to mend it."""


class ConfigWarning(UserWarning):
    """A setting an agent's Emitter cannot use: the agent runs on, its events dropped and counted
    (the SDK never raises into an agent)."""


class WireError(SwarmscopeError):
    """A frame from the network could not be decoded; `reason` is a short key for counters."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class SessionError(SwarmscopeError):
    """A session file or id cannot be used (unknown, unreadable, damaged, too new); the message says
    which and why."""
