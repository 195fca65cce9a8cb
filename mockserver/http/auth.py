"""Personal API keys, scopes and tenant access, with PostHog's exact answers.

The order is PostHog's permission chain (``posthog/api/routing.py@00f00ca85a4ca4bc775f6db3ac6acc84b2d09123``
and ``posthog/permissions.py@001027ced3127c76229e5b8c8802924d0ef94cef``): authenticate; find
the project or organization the URL names (404 when there is none) and apply the key's
own restrictions to it (``check_team_and_org_permissions``, which ``APIScopePermission``
runs for every personal key before it compares scopes); check the key's scope for the
operation; last, check that the key's owner belongs to the project or organization.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from werkzeug.datastructures import Headers, MultiDict

from mockserver.domain.models import ApiKey, Organization, Team
from mockserver.domain.store import Store
from mockserver.errors import AuthenticationFailed, NotAuthenticated, NotFound, PermissionDenied

__all__ = ["authenticate", "check_member", "check_scope", "parse_project_id", "resolve_organization", "resolve_team"]

#: Longer text is no project id (``int()`` of thousands of digits is slow, then refused).
_MAX_PROJECT_ID_CHARS = 64

_BEARER = re.compile(r"^Bearer\s+(\S.+)$")


def authenticate(store: Store, headers: Headers, query: MultiDict[str, str], body: Any) -> ApiKey:
    """Find the personal API key: ``Authorization: Bearer``, then body, then query string.

    PostHog's ``find_key_with_source``: the header must match ``^Bearer\\s+(\\S.+)$`` (case
    sensitive); a ``pha_`` token is left to OAuth (which the fake does not serve), so it
    counts as no credentials; only the first key found is tried.
    """
    found: tuple[Any, str] | None = None
    match = _BEARER.match(headers.get("Authorization", ""))
    if match:
        token = match.group(1).strip()
        if token.startswith("pha_"):
            raise NotAuthenticated()
        found = (token, "Authorization header")
    elif isinstance(body, dict) and "personal_api_key" in body:
        found = (body["personal_api_key"], "body")
    elif "personal_api_key" in query:
        found = (query.getlist("personal_api_key")[-1], "query string")  # Django's QueryDict: the last value
    if found is None:
        raise NotAuthenticated()
    key = store.api_keys.get(found[0]) if isinstance(found[0], str) else None
    if key is None:
        raise AuthenticationFailed(f"Personal API key found in request {found[1]} is invalid.")
    return key


def check_scope(key: ApiKey, scope: str | None) -> None:
    """``batch_export:read`` is also met by ``:write``; ``*`` meets everything.

    A key whose scopes list is empty meets nothing: PostHog reads it as a list like any
    other (``get_authenticator_scopes``), and no rule lets an empty one through.
    """
    if scope is None or "*" in key.scopes or scope in key.scopes:
        return
    if scope.endswith(":read") and scope.replace(":read", ":write") in key.scopes:
        return
    raise PermissionDenied(f"API key missing required scope '{scope}'")


def resolve_team(store: Store, key: ApiKey, raw_id: str) -> Team:
    """The project the URL names, within the key's own restrictions (membership is :func:`check_member`'s)."""
    team_id = key.current_team_id if raw_id == "@current" else parse_project_id(raw_id)
    team = store.teams.get(team_id)
    if team is None:
        raise NotFound("Project not found.")
    # An empty restriction list restricts nothing (PostHog tests ``if scoped_teams:``).
    if key.scoped_teams and team.id not in key.scoped_teams:
        raise PermissionDenied(f"API key does not have access to the requested project: ID {team.id}.")
    if key.scoped_organizations and team.organization_id not in key.scoped_organizations:
        # A project route resolves its organization too (``get_organization_from_view``).
        raise PermissionDenied(
            f"API key does not have access to the requested organization: ID {team.organization_id}."
        )
    return team


def parse_project_id(raw_id: str) -> int:
    """The project a URL's segment names, read with ``int()`` as PostHog's ``parents_query_dict``
    reads it: ``1_0`` is project 10, `` 7`` (an encoded space) and non-ASCII digits count too.

    >>> parse_project_id("1_0"), parse_project_id(" 7"), parse_project_id("١٢")
    (10, 7, 12)
    """
    try:
        if len(raw_id) <= _MAX_PROJECT_ID_CHARS:
            return int(raw_id)
    except ValueError:
        pass
    raise NotFound("Project not found.")


def resolve_organization(store: Store, key: ApiKey, raw_id: str) -> Organization:
    """The organization the URL names, within the key's own restrictions."""
    if raw_id == "@current":
        org_id = store.teams[key.current_team_id].organization_id
    else:
        try:
            org_id = str(uuid.UUID(raw_id))
        except ValueError:
            raise NotFound("Organization not found.") from None
    org = store.organizations.get(org_id)
    if org is None:
        raise NotFound("Organization not found.")
    if key.scoped_teams:
        raise PermissionDenied("API keys with scoped projects are only supported on project-based endpoints.")
    if key.scoped_organizations and org.id not in key.scoped_organizations:
        raise PermissionDenied(f"API key does not have access to the requested organization: ID {org.id}.")
    return org


def check_member(key: ApiKey, *, team: Team | None = None, organization: Organization | None = None) -> None:
    """403 unless the key's owner belongs to the project's organization (or to the organization).

    PostHog's membership permissions come after ``APIScopePermission``: a key without the
    scope hears about the scope first, even for a project it may not see.
    """
    if team is not None and team.organization_id not in key.organization_ids:
        raise PermissionDenied("You don't have access to the project.")
    if organization is not None and organization.id not in key.organization_ids:
        raise PermissionDenied()
