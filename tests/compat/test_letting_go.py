"""A cassette is freed when its test is done, not when the cyclic collector next runs.

vcrpy builds per-cassette subclasses of the connection classes it patches, holding
the cassette as a class attribute (``CassettePatcherBuilder._build_cassette_subclass``,
``_class_to_cassette_subclass``); classes sit in reference cycles, so every cassette
and everything it loaded stayed in memory until a collection. Once unpatched, those
classes hold it weakly.
"""

from __future__ import annotations

import http.client
import weakref
from pathlib import Path

import vcr.patch

from llm_cassettes import use_cassette


def test_vcrpy_keeps_its_cassette_subclasses_where_compat_looks() -> None:
    cassette = vcr.cassette.Cassette("c.yaml")
    builder = vcr.patch.CassettePatcherBuilder(cassette)
    subclass = builder._get_cassette_subclass(vcr.patch.VCRHTTPConnection)
    message = (
        "vcr.patch.CassettePatcherBuilder._class_to_cassette_subclass / "
        "_build_cassette_subclass changed: _compat._letting_go no longer finds the "
        "per-cassette classes"
    )
    assert list(builder._class_to_cassette_subclass.values()) == [subclass], message
    assert subclass.__dict__["cassette"] is cassette, message


def test_once_unpatched_the_classes_hold_the_cassette_weakly(tmp_path: Path) -> None:
    """(Here the plugin still tracks the cassette for the test's findings; a cassette used
    outside a test is freed as soon as its ``with`` block ends.)"""
    with use_cassette(tmp_path / "empty.yaml", record_mode="none") as cassette:
        connection_class = http.client.HTTPConnection  # vcrpy's subclass, while in use
        assert connection_class.__dict__["cassette"] is cassette
    assert connection_class is not http.client.HTTPConnection  # patched, and undone
    assert type(connection_class.__dict__["cassette"]) is weakref.ProxyType


def test_while_held_the_cassette_is_still_reached_through_its_classes(tmp_path: Path) -> None:
    with use_cassette(tmp_path / "empty.yaml", record_mode="none") as cassette:
        connection_class = http.client.HTTPConnection
    assert connection_class.cassette.record_mode == cassette.record_mode
