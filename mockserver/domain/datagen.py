"""Made-up but realistic rows of PostHog's export models, and the files they are written to.

A file download exports one of three models over ``[data_interval_start, data_interval_end)``:

* ``events``: the default fields of PostHog's batch exports (``uuid``, ``team_id``,
  ``timestamp``, ``_inserted_at``, ``created_at``, ``event``, ``properties``,
  ``distinct_id``, ``set``, ``set_once``);
* ``persons``: the persons view (``team_id``, ``distinct_id``, ``person_id``,
  ``properties``, ``person_distinct_id_version``, ``person_version``, ``created_at``,
  ``_inserted_at``);
* ``sessions``: a subset of the HogQL ``sessions`` table (``session_id``,
  ``$start_timestamp``, ``$end_timestamp``, ``$urls``, …) with ``_inserted_at`` equal
  to ``$end_timestamp``, as PostHog's sessions export selects it.

Everything is drawn from one integer seed (:class:`DataSpec.seed`, itself drawn from
the store's seeded PRNG), so the same seed gives byte-identical files. Faker supplies
the human-looking values (names, domains, cities) once per file download, into small
pools that rows then pick from: calling Faker per row would cost ~35 µs a value.

Every timestamp of a row lies inside the interval. Row counts are kept small on
purpose (:data:`RATES` per hour, capped by :data:`MAX_ROWS`) so tests stay fast while
``max_size_mb: 1`` can still split a day of events into several files.

Encoders: JSON Lines (plain, gzip, or brotli through pyarrow's codec) and Parquet (via
pyarrow, with any of PostHog's five codecs). pyarrow is the ``parquet`` extra; without
it :func:`encoding_problem` says what cannot be written.

>>> from datetime import datetime, timezone
>>> start = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> spec = DataSpec("events", team_id=1, start=start, end=start.replace(hour=1), seed=7)
>>> rows = generate_rows(spec, 3)
>>> [sorted(rows[0])[:3], all(start <= r["timestamp"] < spec.end for r in rows)]
[['_inserted_at', 'created_at', 'distinct_id'], True]
>>> generate_rows(spec, 3) == rows  # same seed, same rows
True
"""

from __future__ import annotations

import json
import random
import uuid
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faker import Faker

__all__ = [
    "COLUMNS",
    "MAX_ROWS",
    "MODELS",
    "RATES",
    "Column",
    "DataSpec",
    "EncodedFile",
    "content_type",
    "default_row_count",
    "encode_files",
    "encoding_problem",
    "file_extension",
    "generate_rows",
]

MODELS = ("events", "persons", "sessions")

#: Rows per hour of interval, drawn once per file download between these bounds.
RATES: dict[str, tuple[int, int]] = {"events": (150, 300), "persons": (20, 60), "sessions": (40, 100)}
#: Hard cap on the rows of one file download (a week of events would be ~50,000 otherwise).
MAX_ROWS: dict[str, int] = {"events": 10_000, "persons": 2_000, "sessions": 5_000}

#: ``COMPRESSION_EXTENSIONS`` of PostHog's destinations (JSON Lines keys carry them;
#: Parquet records its codec inside the file, so its keys end in ``.parquet``).
COMPRESSION_EXTENSIONS = {"gzip": "gz", "brotli": "br", "zstd": "zst", "lz4": "lz4", "snappy": "sz"}

#: Rows per JSON Lines chunk / Parquet row group: the granularity of the size check.
_JSONL_BATCH = 100
_PARQUET_BATCH = 500


@dataclass(frozen=True)
class Column:
    """One output column. ``kind`` is ``string``, ``int64``, ``bool``, ``timestamp``,
    ``json`` (an object in JSON Lines, a JSON string in Parquet) or ``strings`` (a list)."""

    name: str
    kind: str
    nullable: bool = False


COLUMNS: dict[str, tuple[Column, ...]] = {
    "events": (
        Column("uuid", "string"),
        Column("team_id", "int64"),
        Column("timestamp", "timestamp"),
        Column("_inserted_at", "timestamp"),
        Column("created_at", "timestamp"),
        Column("event", "string"),
        Column("properties", "json", nullable=True),
        Column("distinct_id", "string"),
        Column("set", "json", nullable=True),
        Column("set_once", "json", nullable=True),
    ),
    "persons": (
        Column("team_id", "int64"),
        Column("distinct_id", "string"),
        Column("person_id", "string"),
        Column("properties", "json"),
        Column("person_distinct_id_version", "int64"),
        Column("person_version", "int64"),
        Column("created_at", "timestamp"),
        Column("_inserted_at", "timestamp"),
    ),
    "sessions": (
        Column("session_id", "string"),
        Column("team_id", "int64"),
        Column("distinct_id", "string"),
        Column("$start_timestamp", "timestamp"),
        Column("$end_timestamp", "timestamp"),
        Column("$urls", "strings"),
        Column("$num_uniq_urls", "int64"),
        Column("$entry_current_url", "string"),
        Column("$end_current_url", "string"),
        Column("$pageview_count", "int64"),
        Column("$autocapture_count", "int64"),
        Column("$screen_count", "int64"),
        Column("$session_duration", "int64"),
        Column("$channel_type", "string"),
        Column("$is_bounce", "bool"),
        Column("$entry_referring_domain", "string", nullable=True),
        Column("$entry_utm_source", "string", nullable=True),
        Column("_inserted_at", "timestamp"),
    ),
}

#: Event names drawn when the request has no ``include`` list, most frequent first.
EVENT_NAMES = ("$pageview", "$autocapture", "$pageleave", "$identify", "signed_up", "purchase", "$feature_flag_called")
_EVENT_WEIGHTS = (40, 25, 15, 5, 5, 5, 5)
_BROWSERS = ("Chrome", "Safari", "Firefox", "Microsoft Edge", "Samsung Internet")
_OSES = ("Windows", "Mac OS X", "iOS", "Android", "Linux")
_DEVICES = ("Desktop", "Mobile", "Tablet")
_CHANNELS = ("Direct", "Organic Search", "Paid Search", "Referral", "Organic Social", "Email")
_REFERRERS = (None, "www.google.com", "duckduckgo.com", "news.ycombinator.com", "t.co")
_UTM_SOURCES = (None, "newsletter", "google", "twitter", "partner")


@dataclass(frozen=True)
class DataSpec:
    """What to generate: a model over an interval of one team, from one seed.

    ``include``/``exclude`` restrict the event names of the ``events`` model (PostHog
    keeps them for that model only).
    """

    model: str
    team_id: int
    start: datetime
    end: datetime
    seed: int
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def event_names(self) -> tuple[str, ...]:
        """The names events may have: ``include`` (or the defaults) minus ``exclude``."""
        names = dict.fromkeys(self.include or EVENT_NAMES)
        return tuple(name for name in names if name not in self.exclude)


def default_row_count(spec: DataSpec) -> int:
    """How many rows the interval holds: a seeded rate per hour, capped by :data:`MAX_ROWS`.

    >>> from datetime import datetime, timezone
    >>> start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> default_row_count(DataSpec("events", 1, start, start, seed=1))  # an empty interval
    0
    >>> 150 <= default_row_count(DataSpec("events", 1, start, start.replace(hour=1), seed=1)) <= 300
    True
    """
    if spec.model == "events" and not spec.event_names():
        return 0
    # A string seed is hashed with SHA-512 by ``random``: stable across processes.
    rng = random.Random(f"{spec.seed}:count")
    low, high = RATES[spec.model]
    hours = max((spec.end - spec.start).total_seconds(), 0.0) / 3600
    return min(MAX_ROWS[spec.model], round(hours * rng.randint(low, high)))


# -- rows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _User:
    distinct_id: str
    person_id: str
    email: str
    name: str
    city: str
    country_code: str
    browser: str
    os: str
    device: str
    ip: str
    session_ids: tuple[str, ...]


class _World:
    """The small population rows are drawn from: one site, its pages and its visitors."""

    def __init__(self, rng: random.Random, fake: Faker, start: datetime) -> None:
        self.host = fake.domain_name()
        self.urls = [f"https://{self.host}/"] + [f"https://{self.host}/{fake.uri_path()}" for _ in range(11)]
        self.first_names = [fake.first_name() for _ in range(40)]
        self.last_names = [fake.last_name() for _ in range(40)]
        self.cities = [(fake.city(), fake.country_code()) for _ in range(12)]
        self.users = [self._user(rng, fake, start) for _ in range(30)]

    def _user(self, rng: random.Random, fake: Faker, start: datetime) -> _User:
        first, last = rng.choice(self.first_names), rng.choice(self.last_names)
        city, country = rng.choice(self.cities)
        return _User(
            distinct_id=str(_uuid7(rng, start)),
            person_id=str(_uuid4(rng)),
            email=f"{first}.{last}@{fake.free_email_domain()}".lower(),
            name=f"{first} {last}",
            city=city,
            country_code=country,
            browser=rng.choice(_BROWSERS),
            os=rng.choice(_OSES),
            device=rng.choice(_DEVICES),
            ip=fake.ipv4_public(),
            session_ids=(str(_uuid7(rng, start)), str(_uuid7(rng, start))),
        )


def generate_rows(spec: DataSpec, count: int) -> list[dict[str, Any]]:
    """``count`` rows of ``spec.model``, ordered by ``_inserted_at``; values are Python
    objects (aware UTC datetimes, dicts for JSON columns), keys in :data:`COLUMNS` order."""
    if count <= 0:
        return []
    rng = random.Random(spec.seed)
    from faker import Faker  # imported on first use: it costs 60 ms at start-up

    fake = Faker("en_US")
    fake.seed_instance(rng.getrandbits(64))
    world = _World(rng, fake, spec.start)
    span = max(int((spec.end - spec.start) / timedelta(microseconds=1)), 1)
    make = {"events": _event, "persons": _person, "sessions": _session}[spec.model]
    rows = [make(rng, world, spec, span) for _ in range(count)]
    rows.sort(key=lambda row: row["_inserted_at"])
    return rows


def _event(rng: random.Random, world: _World, spec: DataSpec, span: int) -> dict[str, Any]:
    names = spec.event_names()
    weights = [_EVENT_WEIGHTS[EVENT_NAMES.index(n)] if n in EVENT_NAMES else 10 for n in names]
    event = rng.choices(names, weights)[0]
    user = rng.choice(world.users)
    inserted = _instant(rng, spec.start, span)
    # Capture precedes ingestion by a few seconds, but never before the interval starts.
    created = _earlier(rng, inserted, spec.start, 5_000_000)
    timestamp = _earlier(rng, created, spec.start, 2_000_000)
    url = rng.choice(world.urls)
    properties: dict[str, Any] = {
        "$current_url": url,
        "$host": world.host,
        "$pathname": "/" + url.split("/", 3)[3],
        "$browser": user.browser,
        "$os": user.os,
        "$device_type": user.device,
        "$ip": user.ip,
        "$geoip_city_name": user.city,
        "$geoip_country_code": user.country_code,
        "$lib": "web",
        "$session_id": rng.choice(user.session_ids),
    }
    set_, set_once = None, None
    if event == "purchase":
        properties.update({"amount": round(rng.uniform(5, 500), 2), "currency": "USD"})
    elif event == "$autocapture":
        properties.update({"$event_type": rng.choice(("click", "submit", "change"))})
    elif event == "$feature_flag_called":
        properties.update({"$feature_flag": "new-onboarding", "$feature_flag_response": rng.random() < 0.5})
    elif event == "$identify":
        set_ = {"email": user.email, "name": user.name}
        set_once = {"$initial_current_url": url}
    return {
        "uuid": str(_uuid7(rng, timestamp)),
        "team_id": spec.team_id,
        "timestamp": timestamp,
        "_inserted_at": inserted,
        "created_at": created,
        "event": event,
        "properties": properties,
        "distinct_id": user.distinct_id,
        "set": set_,
        "set_once": set_once,
    }


def _person(rng: random.Random, world: _World, spec: DataSpec, span: int) -> dict[str, Any]:
    inserted = _instant(rng, spec.start, span)
    created = _earlier(rng, inserted, spec.start, 60_000_000)
    first, last = rng.choice(world.first_names), rng.choice(world.last_names)
    city, country = rng.choice(world.cities)
    return {
        "team_id": spec.team_id,
        "distinct_id": str(_uuid7(rng, created)),
        "person_id": str(_uuid4(rng)),
        "properties": {
            "email": f"{first}.{last}{rng.randint(1, 999)}@{world.host}".lower(),
            "name": f"{first} {last}",
            "$geoip_city_name": city,
            "$geoip_country_code": country,
            "$initial_browser": rng.choice(_BROWSERS),
            "$initial_os": rng.choice(_OSES),
        },
        "person_distinct_id_version": rng.randint(0, 2),
        "person_version": rng.randint(0, 5),
        "created_at": created,
        "_inserted_at": inserted,
    }


def _session(rng: random.Random, world: _World, spec: DataSpec, span: int) -> dict[str, Any]:
    user = rng.choice(world.users)
    end = _instant(rng, spec.start, span)
    begin = _earlier(rng, end, spec.start, 1_800_000_000)
    urls = rng.sample(world.urls, rng.randint(1, 5))
    pageviews = rng.randint(len(urls), len(urls) + 6)
    return {
        "session_id": str(_uuid7(rng, begin)),
        "team_id": spec.team_id,
        "distinct_id": user.distinct_id,
        "$start_timestamp": begin,
        "$end_timestamp": end,
        "$urls": urls,
        "$num_uniq_urls": len(urls),
        "$entry_current_url": urls[0],
        "$end_current_url": urls[-1],
        "$pageview_count": pageviews,
        "$autocapture_count": rng.randint(0, 12),
        "$screen_count": 0,
        "$session_duration": int((end - begin).total_seconds()),
        "$channel_type": rng.choice(_CHANNELS),
        "$is_bounce": pageviews == 1,
        "$entry_referring_domain": rng.choice(_REFERRERS),
        "$entry_utm_source": rng.choice(_UTM_SOURCES),
        "_inserted_at": end,
    }


def _instant(rng: random.Random, start: datetime, span: int) -> datetime:
    return start + timedelta(microseconds=rng.randrange(span))


def _earlier(rng: random.Random, at: datetime, floor: datetime, max_micros: int) -> datetime:
    room = int((at - floor) / timedelta(microseconds=1))
    return at - timedelta(microseconds=rng.randint(0, min(room, max_micros)))


def _uuid4(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _uuid7(rng: random.Random, at: datetime) -> uuid.UUID:
    """A version-7 UUID for ``at`` (PostHog's event uuids sort by time the same way)."""
    millis = int(at.timestamp() * 1000) & ((1 << 48) - 1)
    rand = rng.getrandbits(74)
    # Python 3.11's ``uuid.UUID`` knows no version 7: set the version and variant bits by hand.
    return uuid.UUID(int=(millis << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1)))


# -- files --------------------------------------------------------------------------


@dataclass(frozen=True)
class EncodedFile:
    content: bytes
    records: int


def _pyarrow_available() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def encoding_problem(file_format: str, compression: str | None) -> str | None:
    """Why this fake cannot write ``file_format``/``compression`` here, or ``None``.

    Parquet and brotli both come from pyarrow, a dependency of the package; an environment
    can still lack it (installed without dependencies, or on a platform without wheels).
    """
    needs_pyarrow = file_format == "Parquet" or compression == "brotli"
    if needs_pyarrow and not _pyarrow_available():
        what = "Parquet files" if file_format == "Parquet" else "brotli compression"
        return (
            f"This fake cannot write {what} without pyarrow: "
            "install pyarrow (a dependency of posthog-batch-exports-mock) or choose JSONLines without brotli."
        )
    return None


def file_extension(file_format: str, compression: str | None) -> str:
    """``parquet`` whatever the codec; ``jsonl`` plus the codec's extension.

    >>> file_extension("Parquet", "zstd"), file_extension("JSONLines", "gzip"), file_extension("JSONLines", None)
    ('parquet', 'jsonl.gz', 'jsonl')
    """
    if file_format == "Parquet":
        return "parquet"
    return f"jsonl.{COMPRESSION_EXTENSIONS[compression]}" if compression else "jsonl"


def content_type(file_format: str, compression: str | None) -> str:
    """The media type the fake serves a file with (see ``/_mock/files/{file_id}/``)."""
    if file_format == "Parquet":
        return "application/vnd.apache.parquet"
    if compression == "gzip":
        return "application/gzip"
    if compression:
        return "application/octet-stream"
    return "application/x-ndjson"


def encode_files(
    model: str, rows: Sequence[dict[str, Any]], *, file_format: str, compression: str | None, max_size_mb: int | None
) -> list[EncodedFile]:
    """Write ``rows`` as PostHog's writers would: one file, or a new one each time the
    current file reaches ``max_size_mb`` (checked after every chunk of rows, on the
    encoded, compressed bytes). No rows, no files.
    """
    limit = max_size_mb * 1024 * 1024 if max_size_mb and max_size_mb > 0 else None
    columns = COLUMNS[model]
    batch = _PARQUET_BATCH if file_format == "Parquet" else _JSONL_BATCH
    files: list[EncodedFile] = []
    writer: _Writer | None = None
    records = 0
    for chunk in _chunks(rows, batch):
        if writer is None:
            writer = _ParquetWriter(columns, compression) if file_format == "Parquet" else _JsonLinesWriter(compression)
            records = 0
        writer.write(chunk)
        records += len(chunk)
        if limit is not None and writer.size() >= limit:
            files.append(EncodedFile(writer.close(), records))
            writer = None
    if writer is not None:
        files.append(EncodedFile(writer.close(), records))
    return files


def _chunks(rows: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    for offset in range(0, len(rows), size):
        yield rows[offset : offset + size]


class _Writer:
    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        raise NotImplementedError

    def size(self) -> int:
        """Bytes written so far, compressor flushed (so the size check sees real output)."""
        raise NotImplementedError

    def close(self) -> bytes:
        raise NotImplementedError


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class _JsonLinesWriter(_Writer):
    """One compact JSON object per line; datetimes as ISO 8601 with ``+00:00``.

    gzip comes from :mod:`zlib` (its gzip header has no timestamp, so output is
    reproducible); brotli from pyarrow's codec.
    """

    def __init__(self, compression: str | None) -> None:
        self._out = bytearray()
        self._gzip = zlib.compressobj(6, zlib.DEFLATED, 31) if compression == "gzip" else None
        self._brotli: Any = None
        if compression == "brotli":
            import pyarrow as pa

            self._sink = pa.BufferOutputStream()
            self._brotli = pa.CompressedOutputStream(self._sink, "brotli")

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        data = b"".join(
            json.dumps({k: _json_value(v) for k, v in row.items()}, separators=(",", ":"), ensure_ascii=False).encode()
            + b"\n"
            for row in rows
        )
        if self._gzip is not None:
            self._out += self._gzip.compress(data) + self._gzip.flush(zlib.Z_SYNC_FLUSH)
        elif self._brotli is not None:
            self._brotli.write(data)
            self._brotli.flush()
        else:
            self._out += data

    def size(self) -> int:
        return int(self._sink.tell()) if self._brotli is not None else len(self._out)

    def close(self) -> bytes:
        if self._gzip is not None:
            self._out += self._gzip.flush()
        if self._brotli is not None:
            self._brotli.close()
            return bytes(self._sink.getvalue().to_pybytes())
        return bytes(self._out)


class _ParquetWriter(_Writer):
    """One row group per chunk; JSON columns as strings, timestamps in µs UTC."""

    def __init__(self, columns: Sequence[Column], compression: str | None) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        types = {
            "string": pa.string(),
            "json": pa.string(),
            "int64": pa.int64(),
            "bool": pa.bool_(),
            "timestamp": pa.timestamp("us", tz="UTC"),
            "strings": pa.list_(pa.string()),
        }
        self._pa = pa
        self._columns = columns
        self._schema = pa.schema([pa.field(c.name, types[c.kind], nullable=c.nullable) for c in columns])
        self._sink = pa.BufferOutputStream()
        self._writer = pq.ParquetWriter(self._sink, self._schema, compression=compression or "none")

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        data = {
            c.name: [
                json.dumps(row[c.name], separators=(",", ":"), ensure_ascii=False)
                if c.kind == "json" and row[c.name] is not None
                else row[c.name]
                for row in rows
            ]
            for c in self._columns
        }
        self._writer.write_table(self._pa.Table.from_pydict(data, schema=self._schema))

    def size(self) -> int:
        return int(self._sink.tell())

    def close(self) -> bytes:
        self._writer.close()
        return bytes(self._sink.getvalue().to_pybytes())
