"""What this library knows about each model API: one module per provider.

A provider module declares a :class:`Provider`: its endpoints and the SDK
types that parse them, the module prefixes of those types (the ``__type__``
allowlist), the ids it generates per call, its secret headers and query parameters, its
volatile headers,
the ``User-Agent`` of its SDKs, and how its traffic reads as a conversation
(a :class:`ConversationReader`). The registry (``_registry``) gathers them;
every other part of the package asks it, never a provider module. ``_types``
resolves and imports SDK types safely; ``_conversation`` is the model the
review commands read.

Built in: :mod:`.openai`, :mod:`.anthropic`, :mod:`.llama_stack`. Adding one is
adding a module and a line in :data:`BUILT_IN`.
"""

from . import anthropic, llama_stack, openai
from ._conversation import (
    ConversationReader,
    Exchange,
    Message,
    ToolCall,
    one_line_json,
    parse_json_text,
)
from ._registry import (
    TYPE_ALLOWLIST,
    UNVALIDATED_TYPES,
    Endpoint,
    EndpointTypes,
    Provider,
    conversation_reader,
    find_endpoint,
    id_prefixes,
    register_endpoint,
    register_provider,
    registered_providers,
    sdk_of_agent,
    secret_headers,
    secret_query_params,
    volatile_header_prefixes,
    volatile_headers,
)
from ._types import (
    NotInstalledError,
    TypeNotAllowedError,
    concrete_type,
    import_installed,
    is_allowed_type,
    resolve_type,
    type_name,
)

#: The providers registered when the package is imported, in this order.
BUILT_IN = (openai.PROVIDER, anthropic.PROVIDER, llama_stack.PROVIDER)
for _provider in BUILT_IN:
    register_provider(_provider)

__all__ = [
    "BUILT_IN",
    "TYPE_ALLOWLIST",
    "UNVALIDATED_TYPES",
    "ConversationReader",
    "Endpoint",
    "EndpointTypes",
    "Exchange",
    "Message",
    "NotInstalledError",
    "Provider",
    "ToolCall",
    "TypeNotAllowedError",
    "concrete_type",
    "conversation_reader",
    "find_endpoint",
    "id_prefixes",
    "import_installed",
    "is_allowed_type",
    "one_line_json",
    "parse_json_text",
    "register_endpoint",
    "register_provider",
    "registered_providers",
    "resolve_type",
    "sdk_of_agent",
    "secret_headers",
    "secret_query_params",
    "type_name",
    "volatile_header_prefixes",
    "volatile_headers",
]
