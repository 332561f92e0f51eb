"""What this library knows about each model API: one module per provider.

A provider module declares a :class:`Provider`: its endpoints and the SDK
types that parse them, the module prefixes of those types (the ``__type__``
allowlist), the ids and request fields that change per call, its secret headers and
query parameters, the fields whose secret-sounding names are model state, its volatile
headers, the ``User-Agent`` of its SDKs, and how its traffic reads as a conversation
(a :class:`ConversationReader`). The registry (``_registry``) gathers them;
every other part of the package asks it, never a provider module. ``_types``
resolves and imports SDK types safely; ``_conversation`` is the model the
review commands read.

Built in: :mod:`.openai`, :mod:`.anthropic`, :mod:`.gemini`, :mod:`.llama_stack`. Adding one is
adding a module and a line in :data:`BUILT_IN`.
"""

from . import anthropic, gemini, llama_stack, openai
from ._conversation import (
    ConversationReader,
    Exchange,
    Message,
    ToolCall,
    content_text,
    name_tool_results,
    one_line_json,
    parse_json_text,
)
from ._registry import (
    TYPE_ALLOWLIST,
    UNVALIDATED_TYPES,
    Endpoint,
    EndpointTypes,
    FieldTest,
    Provider,
    TypeNames,
    conversation_reader,
    find_endpoint,
    id_prefixes,
    is_model_state,
    model_in_path,
    register_endpoint,
    register_provider,
    registered_providers,
    sdk_of_agent,
    secret_headers,
    secret_query_params,
    timestamp_fields,
    volatile_fields,
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
BUILT_IN = (openai.PROVIDER, anthropic.PROVIDER, gemini.PROVIDER, llama_stack.PROVIDER)
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
    "FieldTest",
    "Message",
    "NotInstalledError",
    "Provider",
    "ToolCall",
    "TypeNames",
    "TypeNotAllowedError",
    "concrete_type",
    "content_text",
    "conversation_reader",
    "find_endpoint",
    "id_prefixes",
    "import_installed",
    "is_allowed_type",
    "is_model_state",
    "model_in_path",
    "name_tool_results",
    "one_line_json",
    "parse_json_text",
    "register_endpoint",
    "register_provider",
    "registered_providers",
    "resolve_type",
    "sdk_of_agent",
    "secret_headers",
    "secret_query_params",
    "timestamp_fields",
    "type_name",
    "volatile_fields",
    "volatile_header_prefixes",
    "volatile_headers",
]
