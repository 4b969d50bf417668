"""The gateway's error tree. Each type has one meaning; I/O errors are translated at
the boundary with ``raise X from exc``.

    GatewayError
    ├── ConfigError          bad configuration; message names the key
    ├── RegistryError        the terminal registry file cannot be used
    ├── StoreError           the database refused an operation
    │   ├── StoreFull            the disk (or the file's size limit) is full
    │   └── StoreReadOnly        the file or its directory cannot be written
    ├── ReloadError          a running broker or gateway could not be told to reload
    └── DeliveryError        an upstream (command center) did not confirm a delivery
        └── PermanentDeliveryError   retrying cannot help (4xx other than 408/429)
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""


class ConfigError(GatewayError):
    """The configuration is invalid. The message names the offending key."""


class RegistryError(GatewayError):
    """The terminal registry cannot be loaded."""


class StoreError(GatewayError):
    """The store could not complete an operation."""


class StoreFull(StoreError):
    """SQLite could not grow the file: the disk, a quota or ``max_page_count`` is full."""


class StoreReadOnly(StoreError):
    """The database file (or its directory, for the WAL) cannot be written."""


class ReloadError(GatewayError):
    """A running broker or gateway could not be told to reload."""


class CommandNotSent(GatewayError):
    """A command for a terminal did not reach the broker (link down, or dropped while it
    was in flight); the operator may try again."""


class DeliveryError(GatewayError):
    """The command center did not confirm a delivery; retry later."""


class PermanentDeliveryError(DeliveryError):
    """The command center rejected a delivery in a way retrying cannot fix."""
