"""Who may call what: personal API keys, scopes, and access to projects and organizations.

PostHog finds the key in the ``Authorization: Bearer`` header, then in a
``personal_api_key`` body field, then in the query string, and leaves ``pha_`` tokens to
OAuth (``PersonalAPIKeyAuthentication`` in
``posthog/auth.py@0193a92ab72d1309f4cb02249428036432930ee6``). Every batch-export
operation needs ``batch_export:read`` or ``batch_export:write``: list and retrieve read,
the model's writes write, and each extra action declares its own (``required_scopes`` in
``products/batch_exports/backend/api/batch_export.py@009018c1ea8ec2bcc93068a4cacb0a071528c6dd``);
write also grants read and ``*`` grants both (``APIScopePermission`` in
``posthog/permissions.py@001027ced3127c76229e5b8c8802924d0ef94cef``). The URL's project or
organization must exist (404) and belong to the key's owner (403), and keys restricted to
some projects or organizations get PostHog's own refusals
(``posthog/api/routing.py@00f00ca85a4ca4bc775f6db3ac6acc84b2d09123`` and the same
``permissions.py``).
"""

from __future__ import annotations

from typing import Any

import pytest
from support import Api, error

from mockserver import MockServer, Tenant

NOOP = {"type": "NoOp", "config": {}}
CREATE = {"name": "n", "interval": "hour", "destination": NOOP}
UNKNOWN_ORG = "00000000-0000-4000-8000-000000000000"


def denied(detail: str) -> dict[str, Any]:
    return error("permission_denied", detail, type="authentication_error")


def tenant_api(server: MockServer, **kwargs: Any) -> Api:
    return Api(server, server.store.create_tenant(**kwargs))


# -- credentials -------------------------------------------------------------------------


def test_no_credentials_is_401(api: Api) -> None:
    response = api.get("/batch_exports/", headers={})

    assert response.status_code == 401
    assert response.json == error(
        "not_authenticated", "Authentication credentials were not provided.", type="authentication_error"
    )


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearer ", "Bearer pha_an_oauth_token"])
def test_an_authorization_header_without_a_personal_api_key_is_no_credentials(api: Api, authorization: str) -> None:
    response = api.get("/batch_exports/", headers={"Authorization": authorization})

    assert response.status_code == 401
    assert response.json["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("where", "request_kwargs"),
    [
        ("Authorization header", {"headers": {"Authorization": "Bearer phx_unknown"}}),
        ("body", {"headers": {}, "json": {"personal_api_key": "phx_unknown", **CREATE}}),
        ("query string", {"headers": {}, "query_string": {"personal_api_key": "phx_unknown"}}),
    ],
)
def test_an_unknown_key_is_401_naming_where_it_was_found(api: Api, where: str, request_kwargs: dict[str, Any]) -> None:
    method = "POST" if "json" in request_kwargs else "GET"

    response = api.request(method, "/batch_exports/", **request_kwargs)

    assert response.status_code == 401
    assert response.json == error(
        "authentication_failed",
        f"Personal API key found in request {where} is invalid.",
        type="authentication_error",
    )


def test_the_header_is_read_before_the_query_string(api: Api) -> None:
    response = api.get(
        "/batch_exports/",
        headers={"Authorization": "Bearer phx_unknown"},
        query_string={"personal_api_key": api.tenant.api_key},
    )

    assert response.status_code == 401
    assert response.json["detail"] == "Personal API key found in request Authorization header is invalid."


def test_the_bearer_keyword_is_case_sensitive(api: Api) -> None:
    response = api.get("/batch_exports/", headers={"Authorization": f"bearer {api.tenant.api_key}"})

    assert response.status_code == 401
    assert response.json["code"] == "not_authenticated"


def test_a_header_that_is_not_bearer_falls_through_to_the_query_string(api: Api) -> None:
    response = api.get(
        "/batch_exports/",
        headers={"Authorization": "Basic dXNlcjpwYXNz"},
        query_string={"personal_api_key": api.tenant.api_key},
    )

    assert response.status_code == 200


def test_an_empty_query_string_key_is_an_invalid_key(api: Api) -> None:
    response = api.get("/batch_exports/?personal_api_key=", headers={})

    assert response.status_code == 401
    assert response.json["detail"] == "Personal API key found in request query string is invalid."


def test_a_key_in_the_query_string_authenticates(api: Api) -> None:
    response = api.get("/batch_exports/", headers={}, query_string={"personal_api_key": api.tenant.api_key})

    assert response.status_code == 200


def test_a_key_in_the_json_body_authenticates(api: Api, tenant: Tenant) -> None:
    response = api.post("/batch_exports/", headers={}, json={"personal_api_key": tenant.api_key, **CREATE})

    assert response.status_code == 201
    assert response.json["team_id"] == tenant.project_id


def test_the_body_key_is_not_an_export_field(api: Api) -> None:
    response = api.post("/batch_exports/", headers={}, json={"personal_api_key": api.tenant.api_key, **CREATE})

    assert "personal_api_key" not in response.json


# -- scopes ------------------------------------------------------------------------------

WRITE_CALLS = [
    ("POST", "/batch_exports/", CREATE),
    ("PUT", "/batch_exports/{id}/", CREATE),
    ("PATCH", "/batch_exports/{id}/", {"name": "x"}),
    ("DELETE", "/batch_exports/{id}/", None),
    ("POST", "/batch_exports/{id}/pause/", None),
    ("POST", "/batch_exports/{id}/unpause/", None),
    ("POST", "/batch_exports/run_test_step_new/", CREATE),
    ("POST", "/batch_exports/{id}/run_test_step/", {}),
]
READ_CALLS = [
    ("GET", "/batch_exports/", None),
    ("GET", "/batch_exports/{id}/", None),
    ("GET", "/batch_exports/{id}/logs/", None),
    ("GET", "/batch_exports/test/?destination=S3", None),
]


def reader_key(server: MockServer, tenant: Tenant, scopes: list[str]) -> str:
    """Another key of a member of ``tenant``'s organization, with ``scopes``."""
    key = server.store.create_tenant(scopes=scopes).api_key
    server.store.api_keys[key].organization_ids.append(tenant.organization_id)
    return key


@pytest.mark.parametrize(("method", "path", "body"), WRITE_CALLS)
def test_a_read_key_cannot_write(
    server: MockServer, api: Api, tenant: Tenant, method: str, path: str, body: dict[str, Any] | None
) -> None:
    export = api.create_export()
    headers = {"Authorization": f"Bearer {reader_key(server, tenant, ['batch_export:read'])}"}

    response = api.request(method, path.format(id=export["id"]), json=body, headers=headers)

    assert response.status_code == 403
    assert response.json == denied("API key missing required scope 'batch_export:write'")


@pytest.mark.parametrize(("method", "path", "body"), READ_CALLS)
def test_a_read_key_can_read(
    server: MockServer, api: Api, tenant: Tenant, method: str, path: str, body: dict[str, Any] | None
) -> None:
    export = api.create_export()
    headers = {"Authorization": f"Bearer {reader_key(server, tenant, ['batch_export:read'])}"}

    response = api.request(method, path.format(id=export["id"]), json=body, headers=headers)

    assert response.status_code == 200


@pytest.mark.parametrize(("method", "path", "body"), READ_CALLS)
def test_a_write_key_can_read(server: MockServer, method: str, path: str, body: dict[str, Any] | None) -> None:
    owner = tenant_api(server)
    export = owner.create_export()
    headers = {"Authorization": f"Bearer {reader_key(server, owner.tenant, ['batch_export:write'])}"}

    response = owner.request(method, path.format(id=export["id"]), json=body, headers=headers)

    assert response.status_code == 200


@pytest.mark.parametrize(("method", "path", "body"), [*READ_CALLS, ("POST", "/batch_exports/", CREATE)])
def test_a_key_without_batch_export_scopes_is_refused(
    server: MockServer, method: str, path: str, body: dict[str, Any] | None
) -> None:
    owner = tenant_api(server)
    export = owner.create_export()
    headers = {"Authorization": f"Bearer {reader_key(server, owner.tenant, ['feature_flag:read'])}"}
    needed = "batch_export:write" if method == "POST" else "batch_export:read"

    response = owner.request(method, path.format(id=export["id"]), json=body, headers=headers)

    assert response.status_code == 403
    assert response.json == denied(f"API key missing required scope '{needed}'")


def test_a_key_whose_scopes_list_is_empty_may_do_nothing(server: MockServer) -> None:
    """PostHog compares an empty list like any other: no scope is in it."""
    api = tenant_api(server, scopes=[])

    read = api.get("/batch_exports/")
    write = api.post("/batch_exports/", json=CREATE)

    assert read.json == denied("API key missing required scope 'batch_export:read'")
    assert write.json == denied("API key missing required scope 'batch_export:write'")


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/api/projects/999999/batch_exports/", "Project not found."),
        ("/api/projects/abc/batch_exports/", "Project not found."),
        ("/api/organizations/not-an-organization/batch_exports/", "Organization not found."),
        ("/api/organizations/00000000-0000-0000-0000-000000000000/batch_exports/", "Organization not found."),
    ],
)
def test_a_project_or_organization_that_does_not_exist_is_404_before_the_scope(
    server: MockServer, path: str, detail: str
) -> None:
    """``APIScopePermission`` looks the project or organization up (``check_team_and_org_permissions``)
    before it compares scopes, for every personal key."""
    api = tenant_api(server, scopes=["feature_flag:read"])

    response = api.get(path)

    assert response.status_code == 404
    assert response.json == error("not_found", detail, type="invalid_request")


def test_a_project_id_is_read_as_python_reads_an_int(api: Api, tenant: Tenant) -> None:
    """PostHog reads the URL's project with ``int()``: underscores, spaces and non-ASCII digits count."""
    arabic_indic = "".join(chr(0x660 + int(d)) for d in str(tenant.project_id))
    for spelling in (f"0_{tenant.project_id}", f"%20{tenant.project_id}", arabic_indic):
        response = api.get(f"/api/projects/{spelling}/batch_exports/")
        assert response.status_code == 200, spelling
    assert api.get(f"/api/projects/{'9' * 65}/batch_exports/").json == error(
        "not_found", "Project not found.", type="invalid_request"
    )


def test_a_key_without_the_scope_hears_about_it_before_membership(server: MockServer) -> None:
    """Membership is checked after the scope: another organization's existing project answers the scope's 403."""
    api = tenant_api(server, scopes=["feature_flag:read"])
    other = server.store.create_tenant()

    response = api.get(f"/api/projects/{other.project_id}/batch_exports/")

    assert response.json == denied("API key missing required scope 'batch_export:read'")


def test_a_patch_on_a_list_route_needs_the_write_scope_before_its_405(server: MockServer) -> None:
    """``APIScopePermission`` calls a PATCH on a list route the write action ``patch``."""
    reader = tenant_api(server, scopes=["batch_export:read"])
    writer = tenant_api(server, scopes=["batch_export:write"])

    refused = reader.patch("/batch_exports/", json={})
    not_allowed = writer.patch("/batch_exports/", json={})

    assert refused.json == denied("API key missing required scope 'batch_export:write'")
    assert not_allowed.status_code == 405


def test_a_star_key_can_write(server: MockServer) -> None:
    api = tenant_api(server, scopes=["*"])

    response = api.post("/batch_exports/", json=CREATE)

    assert response.status_code == 201


# -- projects ------------------------------------------------------------------------------


def test_another_tenants_project_is_403(server: MockServer, api: Api) -> None:
    other = server.store.create_tenant()

    response = api.get(f"/api/projects/{other.project_id}/batch_exports/")

    assert response.status_code == 403
    assert response.json == denied("You don't have access to the project.")


def test_another_tenants_project_is_403_for_writes_too(server: MockServer, api: Api) -> None:
    other = server.store.create_tenant()

    response = api.post(f"/api/projects/{other.project_id}/batch_exports/", json=CREATE)

    assert response.status_code == 403
    assert response.json == denied("You don't have access to the project.")
    assert server.store.exports_by_team[other.project_id] == []


@pytest.mark.parametrize("project_id", ["999999", "not-a-number", "1.5"])
def test_an_unknown_or_malformed_project_is_404(api: Api, project_id: str) -> None:
    response = api.get(f"/api/projects/{project_id}/batch_exports/")

    assert response.status_code == 404
    assert response.json == error("not_found", "Project not found.", type="invalid_request")


@pytest.mark.parametrize("level", ["projects", "environments"])
def test_current_names_the_keys_project(api: Api, tenant: Tenant, level: str) -> None:
    export = api.create_export()

    response = api.get(f"/api/{level}/@current/batch_exports/{export['id']}/")

    assert response.status_code == 200
    assert response.json["team_id"] == tenant.project_id


def test_current_creates_in_the_keys_project(api: Api, tenant: Tenant) -> None:
    response = api.post("/api/projects/@current/batch_exports/", json=CREATE)

    assert response.status_code == 201
    assert response.json["team_id"] == tenant.project_id


def test_another_project_of_the_same_organization_is_accessible(server: MockServer, api: Api, tenant: Tenant) -> None:
    project = server.store.add_project(tenant.organization_id)

    response = api.get(f"/api/projects/{project.id}/batch_exports/")

    assert response.status_code == 200


# -- organizations -----------------------------------------------------------------------


@pytest.mark.parametrize("organization_id", ["not-a-uuid", "12", UNKNOWN_ORG])
def test_an_unknown_or_malformed_organization_is_404(api: Api, organization_id: str) -> None:
    response = api.get(f"/api/organizations/{organization_id}/batch_exports/")

    assert response.status_code == 404
    assert response.json == error("not_found", "Organization not found.", type="invalid_request")


def test_another_organization_is_403(server: MockServer, api: Api) -> None:
    other = server.store.create_tenant()

    response = api.get(f"/api/organizations/{other.organization_id}/batch_exports/")

    assert response.status_code == 403
    assert response.json == denied("You do not have permission to perform this action.")


def test_current_names_the_keys_organization(api: Api) -> None:
    export = api.create_export()

    response = api.get("/api/organizations/@current/batch_exports/")

    assert response.status_code == 200
    assert response.json["results"] == [export]


def test_a_read_key_cannot_write_at_organization_level(server: MockServer, api: Api, tenant: Tenant) -> None:
    headers = {"Authorization": f"Bearer {reader_key(server, tenant, ['batch_export:read'])}"}

    response = api.post(f"/api/organizations/{tenant.organization_id}/batch_exports/", json=CREATE, headers=headers)

    assert response.status_code == 403
    assert response.json == denied("API key missing required scope 'batch_export:write'")


# -- keys restricted to projects or organizations ------------------------------------------


def test_a_project_scoped_key_reaches_its_project(server: MockServer, api: Api, tenant: Tenant) -> None:
    server.store.api_keys[tenant.api_key].scoped_teams = [tenant.project_id]

    assert api.get("/batch_exports/").status_code == 200


def test_a_project_scoped_key_is_refused_another_project(server: MockServer, api: Api, tenant: Tenant) -> None:
    other = server.store.add_project(tenant.organization_id)
    server.store.api_keys[tenant.api_key].scoped_teams = [tenant.project_id]

    response = api.get(f"/api/projects/{other.id}/batch_exports/")

    assert response.status_code == 403
    assert response.json == denied(f"API key does not have access to the requested project: ID {other.id}.")


def test_a_restricted_keys_projects_are_checked_before_its_scopes(server: MockServer, api: Api, tenant: Tenant) -> None:
    """``check_team_and_org_permissions`` runs before the scope comparison in PostHog's ``APIScopePermission``."""
    other = server.store.add_project(tenant.organization_id)
    key = server.store.api_keys[tenant.api_key]
    key.scopes, key.scoped_teams = ["feature_flag:read"], [tenant.project_id]

    elsewhere = api.get(f"/api/projects/{other.id}/batch_exports/")
    own = api.get("/batch_exports/")

    assert elsewhere.json == denied(f"API key does not have access to the requested project: ID {other.id}.")
    assert own.json == denied("API key missing required scope 'batch_export:read'")


def test_a_project_scoped_key_is_refused_every_organization_route(server: MockServer, api: Api, tenant: Tenant) -> None:
    server.store.api_keys[tenant.api_key].scoped_teams = [tenant.project_id]

    response = api.get(f"/api/organizations/{tenant.organization_id}/batch_exports/")

    assert response.status_code == 403
    assert response.json == denied("API keys with scoped projects are only supported on project-based endpoints.")


def test_an_empty_project_restriction_restricts_nothing(server: MockServer, api: Api, tenant: Tenant) -> None:
    server.store.api_keys[tenant.api_key].scoped_teams = []

    assert api.get(f"/api/organizations/{tenant.organization_id}/batch_exports/").status_code == 200


def test_an_organization_scoped_key_reaches_its_organization(server: MockServer, api: Api, tenant: Tenant) -> None:
    server.store.api_keys[tenant.api_key].scoped_organizations = [tenant.organization_id]

    assert api.get(f"/api/organizations/{tenant.organization_id}/batch_exports/").status_code == 200
    assert api.get("/batch_exports/").status_code == 200


def test_an_organization_scoped_key_is_refused_another_organization(
    server: MockServer, api: Api, tenant: Tenant
) -> None:
    second = server.store.create_tenant()
    key = server.store.api_keys[tenant.api_key]
    key.organization_ids.append(second.organization_id)
    key.scoped_organizations = [second.organization_id]

    response = api.get(f"/api/organizations/{tenant.organization_id}/batch_exports/")

    assert response.status_code == 403
    assert response.json == denied(
        f"API key does not have access to the requested organization: ID {tenant.organization_id}."
    )


def test_an_organization_scoped_key_is_refused_projects_of_another_organization(
    server: MockServer, api: Api, tenant: Tenant
) -> None:
    second = server.store.create_tenant()
    key = server.store.api_keys[tenant.api_key]
    key.organization_ids.append(second.organization_id)
    key.scoped_organizations = [second.organization_id]

    response = api.get("/batch_exports/")

    assert response.status_code == 403
    assert response.json == denied(
        f"API key does not have access to the requested organization: ID {tenant.organization_id}."
    )


# -- checks come before the handler ------------------------------------------------------


def test_a_refused_request_changes_nothing(server: MockServer, api: Api, tenant: Tenant) -> None:
    export = api.create_export()
    headers = {"Authorization": f"Bearer {reader_key(server, tenant, ['batch_export:read'])}"}

    api.delete(f"/batch_exports/{export['id']}/", headers=headers)

    assert server.store.batch_exports[export["id"]].deleted is False


def test_authentication_comes_before_routing_a_wrong_method(api: Api) -> None:
    response = api.delete("/batch_exports/", headers={})

    assert response.status_code == 401
