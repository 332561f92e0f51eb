"""The cassette file: what it says, and how it is read, written and found on disk.

A vcrpy serializer (:class:`CassetteSerializer`: typed bodies, one line per
stream event, scrubbed) and persister (:class:`CassettePersister`: errors that
name the file, atomic writes, merges under a per-cassette lock), like vcrpy's
``serializers/`` and ``persisters/``; the shapes stored inside a cassette
(typed payloads, tool records, provenance metadata); and the walker every
command uses to find cassette files.
"""

from ._files import (
    CASSETTE_SUFFIXES,
    CassetteFile,
    cassette_files,
    find_files,
    looks_like_cassette,
    read_text,
    walked,
)
from ._lock import LOCK_DIR, CassetteLockTimeout, cassette_lock, lock_path
from ._payload import DATA_KEY, TYPE_KEY, is_typed, typed, untyped
from ._persister import CassettePersister, write_atomic
from ._provenance import (
    BODY,
    LEGACY,
    LOAD_INFO,
    MATCHING_KEY,
    PROVENANCE_KEY,
    LoadInfo,
    Provenance,
    declare_matching,
    file_matching,
    interaction_matching,
    matched_on_body,
    provenance_entry,
    sdk_of,
    with_provenance_entry,
    without_matching_marker,
)
from ._serializer import (
    COMPLETE_KEY,
    ERROR_KEY,
    FORMAT_VERSION,
    OFFSETS_KEY,
    STREAM_FIELDS,
    UNTYPED_KEY,
    CassetteSerializer,
    WrappedSerializer,
)
from ._tool_record import (
    ASYNC_STREAM,
    BYTES_TAG,
    DICT_TAG,
    ERROR,
    METHOD,
    OUTCOMES,
    RESULT,
    STREAM,
    TUPLE_TAG,
    check_outcome,
    is_tool_request,
    tool_name_of,
    tool_uri,
    valid_tool_name,
)

__all__ = [
    # tool records
    "ASYNC_STREAM",
    # provenance metadata, and how a cassette declares its matching
    "BODY",
    "BYTES_TAG",
    # files on disk
    "CASSETTE_SUFFIXES",
    "COMPLETE_KEY",
    # typed payloads
    "DATA_KEY",
    "DICT_TAG",
    "ERROR",
    "ERROR_KEY",
    # the file format
    "FORMAT_VERSION",
    "LEGACY",
    "LOAD_INFO",
    "LOCK_DIR",
    "MATCHING_KEY",
    "METHOD",
    "OFFSETS_KEY",
    "OUTCOMES",
    "PROVENANCE_KEY",
    "RESULT",
    "STREAM",
    "STREAM_FIELDS",
    "TUPLE_TAG",
    "TYPE_KEY",
    "UNTYPED_KEY",
    "CassetteFile",
    "CassetteLockTimeout",
    "CassettePersister",
    "CassetteSerializer",
    "LoadInfo",
    "Provenance",
    "WrappedSerializer",
    "cassette_files",
    "cassette_lock",
    "check_outcome",
    "declare_matching",
    "file_matching",
    "find_files",
    "interaction_matching",
    "is_tool_request",
    "is_typed",
    "lock_path",
    "looks_like_cassette",
    "matched_on_body",
    "provenance_entry",
    "read_text",
    "sdk_of",
    "tool_name_of",
    "tool_uri",
    "typed",
    "untyped",
    "valid_tool_name",
    "walked",
    "with_provenance_entry",
    "without_matching_marker",
    "write_atomic",
]
