"""``GET /``: a page for people (tenants, exports, recent runs); ``GET /api/schema/``: the spec.

The page is rendered on the server from the store, with no script and no build step, so
anyone running ``serve`` can open the fake in a browser and see what their code made.
"""

from __future__ import annotations

import functools
import itertools
from datetime import datetime
from html import escape

import orjson

from mockserver.domain.dates import format_datetime
from mockserver.domain.models import BatchExport, Run
from mockserver.domain.store import Store
from mockserver.http.context import Context, Reply
from mockserver.http.handlers.control import ControlPlane
from mockserver.http.pagination import limit_offset
from mockserver.http.spec import packaged_document, spec_path

__all__ = ["HANDLERS"]

#: Runs shown per export (the newest).
RECENT_RUNS = 5
#: Organizations a page shows by default (``?limit=``, ``?offset=`` page through the rest): a
#: long-lived fake, such as the plugin's shared one, gathers tenants without end, and the
#: page is rendered under the store's lock.
PAGE_ORGANIZATIONS = 20
#: Batch exports shown per project; the page says how many more the API lists.
PAGE_EXPORTS = 50

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; color: #1d1f27; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; } h3 { font-size: 1rem; margin: 1.2rem 0 .3rem; }
table { border-collapse: collapse; width: 100%; margin: .3rem 0 1rem; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #e4e4e9; vertical-align: top; }
code { font-size: .9em; } .muted { color: #6b6f80; }
.status { font-weight: 600; } .Completed { color: #1f7a3a; } .Running, .Starting { color: #1d4ed8; }
.Failed, .FailedRetryable, .FailedBilling, .TimedOut, .Terminated { color: #b42318; } .Cancelled { color: #6b6f80; }
"""


def _when(moment: datetime | None) -> str:
    return escape(format_datetime(moment) or "…") if moment is not None else "…"


def _status(status: str) -> str:
    return f'<span class="status {escape(status)}">{escape(status)}</span>'


def _runs_table(runs: list[Run]) -> str:
    if not runs:
        return '<p class="muted">No runs yet.</p>'
    rows = "".join(
        f"<tr><td><code>{escape(r.id)}</code></td><td>{_status(r.status)}</td>"
        f"<td>{_when(r.data_interval_start)} → {_when(r.data_interval_end)}</td>"
        f"<td>{escape(r.latest_error or '')}</td></tr>"
        for r in runs
    )
    return f"<table><tr><th>run</th><th>status</th><th>data interval</th><th>error</th></tr>{rows}</table>"


def _export_section(store: Store, export: BatchExport) -> str:
    run_ids = store.runs_by_export.get(export.id, [])[-RECENT_RUNS:]
    runs = [store.runs[i] for i in reversed(run_ids)]
    state = "paused" if export.paused else "active"
    return (
        f'<h3 id="export-{escape(export.id)}">{escape(export.name)}</h3>'
        f'<p class="muted"><code>{escape(export.id)}</code> · {escape(export.destination.type)} · '
        f"{escape(export.interval)} · {state}</p>{_runs_table(runs)}"
    )


def render_home(store: Store, *, limit: int = PAGE_ORGANIZATIONS, offset: int = 0) -> str:
    """The page: organizations ``offset`` to ``offset + limit`` (in creation order), from the store as it is now."""
    total = len(store.organizations)
    # Bounded by the count: islice refuses positions past sys.maxsize, and a query may ask for any.
    shown = list(itertools.islice(store.organizations.values(), min(offset, total), min(offset + limit, total)))
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<title>PostHog batch-exports mock</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>PostHog batch-exports mock</h1>",
        f'<p>Virtual time: <time id="now">{_when(store.clock.now())}</time> · '
        f"{total} organization(s) · "
        f'<a href="/api/schema/">API schema</a> · <a href="/_mock/state/?limit={limit}&amp;offset={offset}">'
        "this page's state as JSON</a></p>",
    ]
    if not store.organizations:
        parts.append('<p class="muted">No tenants yet: create one with <code>POST /_mock/tenants/</code>.</p>')
    elif offset or total > offset + limit:
        parts.append(_pager(total, limit, offset, len(shown)))
    for org in shown:
        for team_id in org.team_ids:
            team = store.teams[team_id]
            live = [i for i in store.exports_by_team.get(team_id, []) if not store.batch_exports[i].deleted]
            parts.append(
                f'<section class="tenant" id="project-{team_id}"><h2>{escape(team.name)} '
                f'<span class="muted">(project {team_id}, {escape(org.name)})</span></h2>'
            )
            if not live:
                parts.append('<p class="muted">No batch exports.</p>')
            parts.extend(_export_section(store, store.batch_exports[i]) for i in live[:PAGE_EXPORTS])
            if len(live) > PAGE_EXPORTS:
                parts.append(
                    f'<p class="muted">And {len(live) - PAGE_EXPORTS} more: '
                    f"<code>GET /api/projects/{team_id}/batch_exports/</code> lists them all.</p>"
                )
            parts.append("</section>")
    parts.append("</body></html>")
    return "".join(parts)


def _pager(total: int, limit: int, offset: int, count: int) -> str:
    first, last = (offset + 1, offset + count) if count else (0, 0)
    links = [f"Organizations {first}–{last} of {total}"]
    if offset:
        links.append(f'<a rel="prev" href="/?limit={limit}&amp;offset={max(0, offset - limit)}">previous</a>')
    if offset + limit < total:
        links.append(f'<a rel="next" href="/?limit={limit}&amp;offset={offset + limit}">next</a>')
    return f'<p class="muted">{" · ".join(links)}</p>'


def home(plane: ControlPlane, ctx: Context) -> Reply:
    limit, offset = limit_offset(ctx.query.get("limit"), ctx.query.get("offset"), default_limit=PAGE_ORGANIZATIONS)
    with plane.store.lock:
        page = render_home(plane.store, limit=limit, offset=offset)
    # "replace": text a client stored may hold what UTF-8 cannot write (a lone surrogate in a
    # name read from an old state file); the page shows ``?`` there rather than failing.
    return Reply(200, page.encode("utf-8", "replace"), {"Content-Type": "text/html; charset=utf-8"})


@functools.lru_cache(maxsize=2)
def _schema_bytes(wanted: str) -> bytes:
    if wanted == "json":
        return orjson.dumps(packaged_document())
    return spec_path().read_bytes()


def schema(plane: ControlPlane, ctx: Context) -> Reply:
    """The OpenAPI document the fake serves, as YAML (``?format=json`` for JSON), like PostHog's."""
    wanted = ctx.query.get("format") or "yaml"
    body = _schema_bytes(wanted)
    media = "application/vnd.oai.openapi+json" if wanted == "json" else "application/vnd.oai.openapi"
    return Reply(200, body, {"Content-Type": f"{media}; charset=utf-8"})


HANDLERS = {"mock_home_retrieve": home, "mock_schema_retrieve": schema}
