"""The scrubber remembers texts it found clean, and forgets them when it learns a secret.

A live request repeats the bytes of the recorded one (scrubbed when the cassette
loaded), so a body or URL found clean is not scanned again, until a secret value is
learned: then the same text may hold it.
"""

from __future__ import annotations

from llm_cassettes.scrub import REDACTED, Scrubber

SECRET = "tok-9f8e7d6c5b4a39281706"


def test_a_clean_body_is_scanned_again_once_a_secret_is_learned() -> None:
    scrubber = Scrubber()
    body = ('{"note": "' + SECRET + '"}').encode()
    assert scrubber.body(body, "application/json") == body
    assert scrubber.body(body, "application/json") == body  # remembered as clean
    scrubber.learn(SECRET)
    scrubbed = scrubber.body(body, "application/json")
    assert SECRET.encode() not in scrubbed and REDACTED.encode() in scrubbed


def test_a_clean_url_is_scanned_again_once_a_secret_is_learned() -> None:
    scrubber = Scrubber()
    url = f"https://api.example.com/v1/items/{SECRET}"
    assert scrubber.url(url) == url
    scrubber.learn(SECRET)
    assert SECRET not in scrubber.url(url)


def test_reported_places_are_always_scanned() -> None:
    """With ``where`` (the serializer saving a cassette) nothing is skipped: each finding
    is reported at its place."""
    found = []
    scrubber = Scrubber(report=found.append)
    scrubber.learn(SECRET)
    body = ('{"note": "' + SECRET + '"}').encode()
    scrubber.body(body, "application/json")  # unreported: remembered or not, no report
    scrubber.body(body, "application/json", "interactions[0].request.body")
    scrubber.body(body, "application/json", "interactions[1].request.body")
    assert [r.where for r in found] == [
        "interactions[0].request.body",
        "interactions[1].request.body",
    ]
