"""What this library knows about each model API, and the SDK types it may import.

(The one module per provider follows in a later commit.)
"""

from ._registry import (
    TYPE_ALLOWLIST,
    UNVALIDATED_TYPES,
    Endpoint,
    NotInstalledError,
    TypeNotAllowedError,
    concrete_type,
    find_endpoint,
    import_installed,
    is_allowed_type,
    register_endpoint,
    resolve_type,
    type_name,
)

__all__ = [
    "TYPE_ALLOWLIST",
    "UNVALIDATED_TYPES",
    "Endpoint",
    "NotInstalledError",
    "TypeNotAllowedError",
    "concrete_type",
    "find_endpoint",
    "import_installed",
    "is_allowed_type",
    "register_endpoint",
    "resolve_type",
    "type_name",
]
