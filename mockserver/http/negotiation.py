"""Content negotiation as Django REST framework does it for PostHog's views, which render JSON only.

DRF picks a renderer before it authenticates (``APIView.initial``): a ``format`` query
parameter keeps only the renderers of that format (none: 404), then the ``Accept``
header's media types must match one of them (none: 406). PostHog's only renderer is JSON
(``posthog/settings/web.py@000798bf8784a9d3d2ba4f133c3486d0cc0a1669``). A media type matches
when its main type is ``application`` or ``*`` and its subtype ``json`` or ``*``; its
parameters (``q`` included: ``q=0`` still matches) do not matter, as in DRF's
``_MediaType.match``. An ``Accept`` header that is present but empty matches nothing.
"""

from __future__ import annotations

from mockserver.errors import NotAcceptable, NotFound

__all__ = ["check_acceptable"]


def check_acceptable(accept: str | None, format_param: str | None) -> None:
    """Refuse what PostHog's content negotiation refuses; nothing for what JSON satisfies.

    >>> check_acceptable(None, None), check_acceptable("text/html,*/*;q=0.8", "json")
    (None, None)
    >>> check_acceptable("text/html", None)
    Traceback (most recent call last):
    ...
    mockserver.errors.NotAcceptable: Could not satisfy the request Accept header.
    >>> check_acceptable("application/json", "xml")
    Traceback (most recent call last):
    ...
    mockserver.errors.NotFound: Not found.
    """
    if format_param and format_param != "json":
        raise NotFound()
    if accept is None:
        return  # DRF reads a missing header as */*
    if not any(_json_satisfies(token) for token in accept.split(",")):
        raise NotAcceptable()


def _json_satisfies(media_type: str) -> bool:
    full_type = media_type.split(";", 1)[0].strip().lower()
    main, _slash, sub = full_type.partition("/")
    return main in ("application", "*") and sub in ("json", "*")
