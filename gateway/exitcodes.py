"""How the gateway process ends, as its exit status: the one definition.

The shipped systemd unit restarts the gateway whatever the status, except for
``CONFIG`` (a config that does not validate will not validate on the next try either).
README "Operate" has the same table for operators; a test keeps the two equal.
"""

from __future__ import annotations

from enum import IntEnum

from gateway.errors import (
    ConfigError,
    GatewayError,
    RegistryError,
    StoreError,
    StoreFull,
    StoreReadOnly,
)


class ExitCode(IntEnum):
    """Exit statuses of ``python -m gateway run`` (and of the other commands)."""

    OK = 0  #: stopped on SIGTERM/SIGINT
    FAILED = 1  #: an unexpected error (a defect); the traceback is in the log
    CONFIG = 2  #: bad configuration, registry or command line; the message names the key or line
    STORE = 3  #: the database cannot be opened or used (not a database, newer schema, I/O error)
    DISK_FULL = 4  #: the database cannot grow: the disk (or a quota) is full
    READ_ONLY = 5  #: the database file or its directory is not writable


#: What each status tells the operator to do (README "Operate" shows this table).
ACTIONS: dict[ExitCode, str] = {
    ExitCode.OK: "nothing; it was asked to stop",
    ExitCode.FAILED: "report the traceback; systemd restarts the gateway",
    ExitCode.CONFIG: "fix the key or line named in the log, then start it again",
    ExitCode.STORE: "restore the last backup, or run the gateway version that wrote the file",
    ExitCode.DISK_FULL: "free disk space; systemd restarts the gateway, which resumes",
    ExitCode.READ_ONLY: "make the file and its directory writable for the gateway's user",
}


def exit_code_for(exc: BaseException) -> ExitCode:
    """The status for the error that ended the process."""
    leaf = significant(exc)
    for kind, code in (
        (StoreFull, ExitCode.DISK_FULL),
        (StoreReadOnly, ExitCode.READ_ONLY),
        (StoreError, ExitCode.STORE),
        (ConfigError, ExitCode.CONFIG),
        (RegistryError, ExitCode.CONFIG),
        (GatewayError, ExitCode.CONFIG),
    ):
        if isinstance(leaf, kind):
            return code
    return ExitCode.FAILED


def significant(exc: BaseException) -> BaseException:
    """The error that explains the end: inside exception groups (one per TaskGroup),
    a store error before any other gateway error, and that before anything else."""
    if not isinstance(exc, BaseExceptionGroup):
        return exc
    leaves = [significant(inner) for inner in exc.exceptions]
    for kind in (StoreError, GatewayError):
        found = next((leaf for leaf in leaves if isinstance(leaf, kind)), None)
        if found is not None:
            return found
    return leaves[0]
