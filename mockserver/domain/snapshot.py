"""A JSON-able dump of a store, grouped by tenant (``GET /_mock/state``).

It shows stored values as they are (secrets included, deleted exports included), which
is what a test debugging the fake wants; the PostHog API never shows them this way.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mockserver.domain.dates import format_datetime

if TYPE_CHECKING:
    from mockserver.domain.store import Store

__all__ = ["snapshot"]


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, datetime):
        return format_datetime(value)
    return value


def snapshot(store: Store) -> dict[str, Any]:
    organizations = []
    for org in store.organizations.values():
        projects = []
        for team_id in org.team_ids:
            team = store.teams[team_id]
            export_ids = store.exports_by_team.get(team_id, [])
            projects.append(
                {
                    **_plain(team),
                    "integrations": [_plain(i) for i in store.integrations.values() if i.team_id == team_id],
                    "batch_exports": [_plain(store.batch_exports[i]) for i in export_ids],
                    "runs": [_plain(r) for r in store.runs.values() if r.team_id == team_id],
                    "backfills": [_plain(b) for b in store.backfills.values() if b.team_id == team_id],
                    "logs": [_plain(entry) for entry in store.logs if entry.team_id == team_id],
                }
            )
        keys = [_plain(k) for k in store.api_keys.values() if org.id in k.organization_ids]
        organizations.append({**_plain(org), "api_keys": keys, "projects": projects})
    return {
        "now": format_datetime(store.clock.now()),
        "seed": store.ids.seed,
        "organizations": organizations,
    }
