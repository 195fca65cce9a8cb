"""Personal API keys, scopes and tenant access, with PostHog's exact answers.

The order is PostHog's permission chain (``posthog/api/routing.py``): authenticate,
check the key's scope for the operation, then resolve the project or organization
named in the URL and check the key's owner may see it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import Headers

from mockserver.domain.models import ApiKey, Organization, Team
from mockserver.domain.store import Store
from mockserver.errors import AuthenticationFailed, NotAuthenticated, NotFound, PermissionDenied

__all__ = ["authenticate", "check_scope", "resolve_organization", "resolve_team"]


def authenticate(store: Store, headers: Headers, query: Mapping[str, str], body: Any) -> ApiKey:
    """Find the personal API key: ``Authorization: Bearer``, then body, then query string."""
    found: tuple[str, str] | None = None
    authorization = headers.get("Authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip() and not token.startswith("pha_"):
        found = (token.strip(), "Authorization header")
    elif isinstance(body, dict) and isinstance(body.get("personal_api_key"), str):
        found = (body["personal_api_key"], "body")
    elif query.get("personal_api_key"):
        found = (query["personal_api_key"], "query string")
    if found is None:
        raise NotAuthenticated()
    key = store.api_keys.get(found[0])
    if key is None:
        raise AuthenticationFailed(f"Personal API key found in request {found[1]} is invalid.")
    return key


def check_scope(key: ApiKey, scope: str | None) -> None:
    """``batch_export:read`` is also met by ``:write``; ``*`` meets everything."""
    if scope is None or "*" in key.scopes or scope in key.scopes:
        return
    if scope.endswith(":read") and scope.replace(":read", ":write") in key.scopes:
        return
    raise PermissionDenied(f"API key missing required scope '{scope}'")


def resolve_team(store: Store, key: ApiKey, raw_id: str) -> Team:
    if raw_id == "@current":
        team_id = key.current_team_id
    elif raw_id.isdigit():
        team_id = int(raw_id)
    else:
        raise NotFound("Project not found.")
    team = store.teams.get(team_id)
    if team is None:
        raise NotFound("Project not found.")
    if key.scoped_teams is not None and team.id not in key.scoped_teams:
        raise PermissionDenied(f"API key does not have access to the requested project: ID {team.id}.")
    if team.organization_id not in key.organization_ids:
        raise PermissionDenied("You don't have access to the project.")
    return team


def resolve_organization(store: Store, key: ApiKey, raw_id: str) -> Organization:
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
    if key.scoped_teams is not None:
        raise PermissionDenied("API keys with scoped projects are only supported on project-based endpoints.")
    if key.scoped_organizations is not None and org.id not in key.scoped_organizations:
        raise PermissionDenied(f"API key does not have access to the requested organization: ID {org.id}.")
    if org.id not in key.organization_ids:
        raise PermissionDenied()
    return org
