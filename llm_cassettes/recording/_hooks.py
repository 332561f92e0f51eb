"""The scrubbing hooks this library adds after the user's own ``before_record_*`` hooks.

Composed *after* the user's hooks, so a user's ``before_record_request``
cannot switch scrubbing off by accident. vcrpy runs record hooks again on
loaded interactions and on every lookup: they are idempotent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from vcr.request import Request

from .._wire import header
from ..scrub import REDACTED, Scrubber

__all__ = ["compose", "then_learn_response", "then_scrub_request"]

Hook = Callable[[Any], Any]


def then_scrub_request(user_hook: Hook, scrubber: Scrubber) -> Hook:
    """``before_record_request``: the user's hook, then scrubbing (:func:`_request_scrubber`)."""
    return compose(user_hook, _request_scrubber(scrubber))


def then_learn_response(user_hook: Hook, scrubber: Scrubber) -> Hook:
    """``before_record_response``: the user's hook, then learning its secrets."""
    return compose(user_hook, _response_learner(scrubber))


def _request_scrubber(scrubber: Scrubber) -> Callable[[Request], Request]:
    """A ``before_record_request`` hook; vcrpy also applies it to live requests before
    matching, so a redacted query string or body field still matches the stored one."""

    def scrub_request(request: Request) -> Request:
        if request is None or not scrubber.enabled:
            return request
        content_type = header(request.headers, "content-type")
        scrubber.learn_interaction(
            {"uri": request.uri, "headers": request.headers, "body": request.body}, None
        )
        for name in list(request.headers):  # other headers are scrubbed when saved
            if scrubber.header_action(name) == "redact":
                request.headers[name] = REDACTED
        uri = scrubber.url(request.uri)
        if uri != request.uri:
            request.uri = uri
        body = request.body
        if body:
            scrubbed = scrubber.body(body, content_type)
            if scrubbed != body:
                request.body = scrubbed
        return request

    return scrub_request


def _response_learner(scrubber: Scrubber) -> Callable[[Any], Any]:
    """A ``before_record_response`` hook that only learns: the response's cookies and secret
    fields are known before the next request is scrubbed (the serializer redacts them)."""

    def learn_response(response: Any) -> Any:
        if isinstance(response, Mapping) and scrubber.enabled:
            scrubber.learn_interaction({}, response)
        return response

    return learn_response


def compose(first: Callable[[Any], Any], then: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``then(first(value))``, stopping at a ``None`` (a hook dropped the interaction)."""

    def hook(value: Any) -> Any:
        value = first(value)
        return None if value is None else then(value)

    return hook
