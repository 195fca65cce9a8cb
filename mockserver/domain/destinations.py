"""Destination types: their config keys, secrets, integrations, and PostHog's checks.

The config rules are PostHog's generic algorithm (``BatchExportDestinationSerializer.validate``
in ``products/batch_exports/backend/api/batch_export.py``): a type's allowed keys are the
fields of its Temporal workflow-input dataclass plus every ``BaseBatchExportInputs`` field;
required keys are the dataclass fields without defaults; plain ``str``/``int``/``bool``
annotations are type-checked, with ``"5432"`` → ``5432`` and ``"true"`` → ``True``
converted in place. The tables below are those dataclasses, integration generation
(``service.py``), where credentials live in an Integration rather than in the config.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from mockserver.errors import PermissionDenied, ValidationError

__all__ = [
    "ALLOWED_HTTP_URLS",
    "INTEGRATION_KINDS",
    "LEGACY_PARQUET_MESSAGE",
    "ConfigField",
    "check_config",
    "check_schedulable",
    "uses_legacy_parquet_extension",
    "with_parquet_default",
    "failure_error",
    "merge_config",
    "rendered_config",
    "strip_secrets",
]

# Annotation kinds: a plain class is type-checked; OPTIONAL is not (``str | None`` etc.).
STR, INT, BOOL, OPTIONAL = "str", "int", "bool", "optional"


@dataclass(frozen=True)
class ConfigField:
    name: str
    kind: str = OPTIONAL
    required: bool = False
    #: ``int`` or ``bool`` where the annotation is or contains one (``int | None`` too):
    #: a string stored there is shown as that type in responses.
    declared: str | None = None


def _f(spec: str) -> ConfigField:
    """``"bucket_name:str!"`` → required str; ``"port:int"`` → typed with a default; ``"role"`` → optional;
    ``"port:int?"`` → ``int | None``: never type-checked (PostHog's check skips unions), shown as an int."""
    required = spec.endswith("!")
    spec = spec.rstrip("!")
    name, _, kind = spec.partition(":")
    if kind.endswith("?"):
        return ConfigField(name, OPTIONAL, required, declared=kind.rstrip("?"))
    return ConfigField(name, kind or OPTIONAL, required, declared=kind if kind in (INT, BOOL) else None)


def _fields(*specs: str) -> tuple[ConfigField, ...]:
    return tuple(_f(s) for s in specs)


#: ``BaseBatchExportInputs``: legal config keys for every type, never required and never
#: type-checked (PostHog's loop only checks the type's own fields, not the base ones).
#: Their annotations matter only to how a stored string is shown (:func:`rendered_config`).
BASE_INPUT_FIELDS = tuple(
    replace(f, kind=OPTIONAL)
    for f in _fields(
        "batch_export_id", "team_id:int", "interval", "timezone", "data_interval_end",
        "exclude_events", "include_events", "is_backfill:bool", "is_earliest_backfill:bool",
        "backfill_details", "batch_export_model", "batch_export_schema", "integration_id:int?",
    )
)  # fmt: skip

_S3_COMMON = (
    "bucket_name:str!", "region:str!", "prefix:str!", "compression", "file_format:str",
    "max_file_size_mb:int?", "legacy_parquet_extension:bool",
)  # fmt: skip

#: Destination-specific workflow inputs per type (``service.py``, integration generation).
DESTINATION_FIELDS: dict[str, tuple[ConfigField, ...]] = {
    "AwsS3": _fields(*_S3_COMMON, "encryption", "kms_key_id"),
    "S3Compatible": _fields(*_S3_COMMON, "use_virtual_style_addressing:bool"),
    "Snowflake": _fields("database:str!", "warehouse:str!", "schema:str!", "table_name:str", "role"),
    "Postgres": _fields(
        "database:str!",
        "schema:str",
        "table_name:str",
        "user",
        "host",
        "port:int?",
        "password",
        "has_self_signed_cert:bool",
    ),
    "Redshift": _fields(
        "database:str!",
        "user",
        "password",
        "host",
        "schema:str",
        "table_name:str",
        "port:int",
        "properties_data_type:str",
        # ``typing.Literal["COPY", "INSERT"]``: not a class, so PostHog's type check skips it.
        "mode",
        "copy_inputs",
    ),
    "BigQuery": _fields(
        "dataset_id:str!",
        "table_id:str",
        "project_id",
        "private_key",
        "private_key_id",
        "token_uri",
        "client_email",
        "use_json_type:bool",
    ),
    "Databricks": _fields(
        "http_path:str!",
        "catalog:str!",
        "schema:str!",
        "table_name:str!",
        "use_variant_type:bool",
        "use_automatic_schema_evolution:bool",
    ),
    "AzureBlob": _fields(
        "container_name:str!",
        "prefix:str",
        "compression",
        "file_format:str",
        "max_file_size_mb:int?",
        "legacy_parquet_extension:bool",
    ),
    "HTTP": _fields("url:str!", "token:str!"),
    "NoOp": _fields("arg:str"),
    "Workflows": _fields("hog_function_id:str!"),
    "FileDownload": _fields(
        "data_interval_start",
        "batch_export_run_id",
        "file_format:str",
        "max_file_size_mb:int?",
        "compression",
        "expires_in_seconds:int",
        "main_activity_timeout_seconds:int?",
        "stage_activity_timeout_seconds:int?",
    ),
}

#: Keys removed from every response, at any depth (``secret_fields`` in
#: ``products/batch_exports/backend/models/batch_export.py@c25410746c7e617b3cf91c6f7263b7030868475b``).
SECRET_FIELDS: dict[str, frozenset[str]] = {
    "S3": frozenset({"aws_access_key_id", "aws_secret_access_key"}),
    "AwsS3": frozenset({"aws_access_key_id", "aws_secret_access_key"}),
    "S3Compatible": frozenset({"aws_access_key_id", "aws_secret_access_key"}),
    "Snowflake": frozenset({"user", "password", "private_key", "private_key_passphrase"}),
    "Postgres": frozenset({"user", "password"}),
    "Redshift": frozenset({"user", "password", "aws_access_key_id", "aws_secret_access_key"}),
    "BigQuery": frozenset({"private_key", "private_key_id", "client_email", "token_uri"}),
    "HTTP": frozenset({"token"}),
}

_S3_ERROR = "An error occurred (NoSuchBucket) when calling the PutObject operation: The specified bucket does not exist"
#: What a failed run of each destination records when the plan gave no error: the kind of
#: message PostHog's workers store in ``latest_error`` (the exception that ended the run).
_FAILURE_ERRORS: dict[str, str] = {
    "S3": _S3_ERROR,
    "AwsS3": _S3_ERROR,
    "S3Compatible": _S3_ERROR,
    "Snowflake": "250001: Could not connect to Snowflake backend after 0 attempt(s).",
    "Postgres": 'connection to server failed: FATAL: password authentication failed for user "posthog"',
    "Redshift": 'relation "events" does not exist',
    "BigQuery": "403 Access Denied: Dataset posthog: Permission bigquery.tables.create denied.",
    "Databricks": "[INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have USE CATALOG on Catalog.",
    "AzureBlob": "ContainerNotFound: The specified container does not exist.",
    "HTTP": "Server error: 503 Service Unavailable",
}


def failure_error(dest_type: str) -> str:
    """A realistic ``latest_error`` for a failed run to a ``dest_type`` destination.

    >>> failure_error("Postgres")
    'connection to server failed: FATAL: password authentication failed for user "posthog"'
    >>> failure_error("FileDownload")
    'FileDownload batch export failed: the destination could not be reached'
    """
    return _FAILURE_ERRORS.get(dest_type, f"{dest_type} batch export failed: the destination could not be reached")


#: (integration kind, label in "Integration is not a … integration.") per type that needs one.
INTEGRATION_KINDS: dict[str, tuple[str, str]] = {
    "AwsS3": ("aws-s3", "an AWS S3"),
    "S3Compatible": ("s3-compatible", "an S3-compatible"),
    "Snowflake": ("snowflake", "a Snowflake"),
    "Postgres": ("postgresql", "a PostgreSQL"),
    "Redshift": ("aws-redshift", "a Redshift"),
    "BigQuery": ("google-cloud-service-account", "a Google Cloud service account"),
    "Databricks": ("databricks", "a Databricks"),
    "AzureBlob": ("azure-blob", "an Azure Blob"),
}

#: Types whose integration is required only when creating (updates may keep inline credentials).
INTEGRATION_REQUIRED_ON_CREATE_ONLY = frozenset({"Snowflake", "Postgres", "Redshift"})
#: Types that refuse an update which drops an integration the export had.
INTEGRATION_NOT_REMOVABLE = frozenset({"Snowflake", "Redshift"})
#: Human names used in "Integration is required for {name} batch exports".
_DISPLAY_NAMES = {"AzureBlob": "Azure Blob"}

#: ``temporal/destinations/constants.py``: file formats and their compressions.
SUPPORTED_COMPRESSIONS: dict[str, list[str]] = {
    "Parquet": ["zstd", "lz4", "snappy", "gzip", "brotli"],
    "JSONLines": ["gzip", "brotli"],
}

ALLOWED_HTTP_URLS = ("https://us.i.posthog.com/batch/", "https://eu.i.posthog.com/batch/")

_TRUTHY = {"y", "yes", "t", "true", "on", "1"}


def _str_to_bool(value: str) -> bool:
    """PostHog's ``str_to_bool``: no trimming, so ``" true"`` is false."""
    return value.lower() in _TRUTHY


def check_config(dest_type: str, config: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Run PostHog's generic config algorithm; return the config with conversions applied.

    Raises :class:`ValidationError` with ``attr="destination__non_field_errors"``: these
    errors come from the nested destination serializer's ``validate()``.
    """
    attr = "destination__non_field_errors"
    fields = DESTINATION_FIELDS[dest_type]
    by_name = {f.name: f for f in (*fields, *BASE_INPUT_FIELDS)}
    unknown = sorted(k for k in config if k not in by_name)
    if unknown:
        names = ", ".join(f"'{k}'" for k in unknown)
        raise ValidationError(f"Configuration has unknown field/s: {names}", attr=attr)
    if not partial:
        for f in fields:
            if f.required and f.name not in config:
                raise ValidationError(f"Configuration missing required field: '{f.name}'", attr=attr)
    converted = dict(config)
    for key, value in config.items():
        kind = by_name[key].kind
        if kind == OPTIONAL:
            continue
        if kind == BOOL and isinstance(value, str):
            converted[key] = value = _str_to_bool(value)
        elif kind == INT and isinstance(value, str):
            with contextlib.suppress(ValueError):
                converted[key] = value = int(value)
        expected = {STR: str, INT: int, BOOL: bool}[kind]
        if not isinstance(value, expected):
            raise ValidationError(
                f"Configuration has invalid type: got '{_py_type(value)}', expected '{kind}'", attr=attr
            )
    return converted


#: Workflow inputs PostHog's ``sync_batch_export`` passes by name beside the config's own keys.
_PASSED_BY_SYNC = (
    "team_id", "batch_export_id", "interval", "timezone", "batch_export_model", "batch_export_schema", "integration_id",
)  # fmt: skip


def check_schedulable(dest_type: str, config: dict[str, Any]) -> None:
    """Refuse, with a 400, a config that passed :func:`check_config` but that PostHog cannot schedule.

    After validation, PostHog builds the schedule's workflow inputs from the config
    (``sync_batch_export`` in
    ``products/batch_exports/backend/service.py@02b1f511eba060f6e18d0e9100bd270d295141b8``)
    and answers 500 when that fails: a config key it also passes by name (``team_id``,
    ``interval``… a ``TypeError``), or a string that ``int()`` cannot read in an ``int``
    field its type check skipped (``port`` of Postgres, ``max_file_size_mb``: a
    ``ValueError`` in ``__post_init__``). The fake answers the error such a key or value
    gets where PostHog does check it (see docs/fidelity.md).

    >>> check_schedulable("Postgres", {"database": "d", "port": "5432"})
    >>> check_schedulable("Postgres", {"database": "d", "port": "abc"})
    Traceback (most recent call last):
    ...
    mockserver.errors.ValidationError: Configuration has invalid type: got 'str', expected 'int'
    """
    attr = "destination__non_field_errors"
    passed = sorted(k for k in config if k in _PASSED_BY_SYNC)
    if passed:
        names = ", ".join(f"'{k}'" for k in passed)
        raise ValidationError(f"Configuration has unknown field/s: {names}", attr=attr)
    declared = _DECLARED.get(dest_type, {})
    for key, value in config.items():
        if isinstance(value, str) and declared.get(key) == INT:
            try:
                int(value)
            except ValueError:
                raise ValidationError(
                    f"Configuration has invalid type: got 'str', expected '{INT}'", attr=attr
                ) from None


#: Today's PostHog (the ``current`` profile) on ``legacy_parquet_extension: true`` where it cannot be.
LEGACY_PARQUET_MESSAGE = (
    "'legacy_parquet_extension' can only stay on for an export that already writes the compression codec into "
    "its Parquet file names. It cannot be turned on for a new export, or turned back on once an export moved "
    "to the standard '.parquet' extension."
)


def uses_legacy_parquet_extension(dest_type: str, stored: dict[str, Any]) -> bool:
    """Whether an export's stored config already writes the codec into its Parquet file names.

    The ``current`` profile lets ``legacy_parquet_extension: true`` stay on only for such an
    export (``validate_destination`` in
    ``products/batch_exports/backend/presentation/views/batch_export/exports.py@0551d5e8e6838b4feed20f1fd8c933a80ae42737``):
    the stored flag read by its declared type, or, for an export made before the flag
    existed, whether it writes compressed Parquet.

    >>> uses_legacy_parquet_extension("AwsS3", {})
    False
    >>> uses_legacy_parquet_extension("AwsS3", {"legacy_parquet_extension": "True"})
    True
    >>> uses_legacy_parquet_extension("AwsS3", {"file_format": "Parquet", "compression": "zstd"})
    True
    """
    shown = rendered_config(dest_type, stored)
    flag = shown.get("legacy_parquet_extension")
    if flag is None:
        return shown.get("file_format") == "Parquet" and shown.get("compression") is not None
    return bool(flag)


def with_parquet_default(dest_type: str, config: dict[str, Any]) -> dict[str, Any]:
    """A new export's config as today's PostHog stores it: object stores opted into the standard
    ``.parquet`` names (``legacy_parquet_extension: false`` unless sent; ``_set_default_parquet_extension``
    beside ``validate_destination`` in the same views module as
    ``products/batch_exports/backend/presentation/views/batch_export/exports.py@0551d5e8e6838b4feed20f1fd8c933a80ae42737``).

    >>> with_parquet_default("AwsS3", {"bucket_name": "b"})
    {'bucket_name': 'b', 'legacy_parquet_extension': False}
    >>> with_parquet_default("NoOp", {})
    {}
    """
    if "legacy_parquet_extension" not in _DECLARED.get(dest_type, {}):
        return config
    return {**config, "legacy_parquet_extension": config.get("legacy_parquet_extension", False)}


def _py_type(value: Any) -> str:
    """Python's name for a JSON value's type, as PostHog's messages print it."""
    return type(value).__name__


INVALID_HOST_MESSAGE = "Invalid host. Enter a hostname or IP address without credentials, scheme, or path."
_S3_FAMILY = ("AwsS3", "S3Compatible")
_COPY_CREDENTIAL_KEYS = frozenset({"aws_access_key_id", "aws_secret_access_key"})
_HOSTNAME_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_BARE_HOSTNAME = re.compile(rf"{_HOSTNAME_LABEL}(?:\.{_HOSTNAME_LABEL})*\.?")


def check_destination(
    dest_type: str,
    config: Mapping[str, Any],
    integration_kind: str | None,
    *,
    creating: bool,
    had_integration: bool,
    feature_flags: set[str],
    existing_config: Mapping[str, Any] | None = None,
    team_integration_kind: Callable[[Any], str | None] = lambda _id: None,
) -> None:
    """Type-specific rules of ``validate_destination`` (attr ``destination``), in PostHog's order.

    Args:
        config: the effective config (stored config merged with the request's).
        integration_kind: kind of the integration PostHog's rules look at, ``None`` for none.
            That is the one sent in the request; only the S3 family falls back to the
            export's current integration when the request does not mention one.
        had_integration: the export being updated already had an integration.
        existing_config: the stored config of the export being updated.
        team_integration_kind: kind of one of the team's integrations by id (``None`` when
            the team has no such integration), for the ids Redshift COPY inputs carry.
    """
    attr = "destination"
    if dest_type == "HTTP":
        url = config.get("url")
        if url and url not in ALLOWED_HTTP_URLS:
            raise ValidationError(f"Invalid destination URL: {url}", attr=attr)
    if dest_type in INTEGRATION_KINDS:
        _check_integration(dest_type, config, integration_kind, creating=creating, had_integration=had_integration)
    if dest_type in ("AwsS3", "S3Compatible", "AzureBlob"):
        _check_file_format(config, attr)
    if dest_type == "Redshift":
        if integration_kind is not None and not config.get("host"):
            raise ValidationError(
                "A 'host' is required when using an AWS Redshift integration: "
                "set it to the cluster or workgroup endpoint.",
                attr=attr,
            )
        if config.get("mode") == "COPY":
            _check_copy_inputs(config, existing_config or {}, creating=creating, kind_of=team_integration_kind)
    if dest_type == "Workflows" and "backfill-workflows-destination" not in feature_flags:
        raise PermissionDenied("Backfilling Workflows is not enabled for this team.")
    if dest_type in ("Postgres", "Redshift") and config.get("host") is not None and not _valid_host(config["host"]):
        raise ValidationError(INVALID_HOST_MESSAGE, attr=attr)


def _check_integration(
    dest_type: str, config: Mapping[str, Any], integration_kind: str | None, *, creating: bool, had_integration: bool
) -> None:
    attr = "destination"
    kind, label = INTEGRATION_KINDS[dest_type]
    name = _DISPLAY_NAMES.get(dest_type, dest_type)
    if integration_kind is None:
        if not creating and had_integration and dest_type in INTEGRATION_NOT_REMOVABLE:
            raise ValidationError(
                f"Cannot remove the integration from a {dest_type} batch export that uses one. "
                "Re-send its `integration` to keep it (or a different one to swap).",
                attr=attr,
            )
        if creating or dest_type not in INTEGRATION_REQUIRED_ON_CREATE_ONLY:
            raise ValidationError(f"Integration is required for {name} batch exports", attr=attr)
        return
    if dest_type in _S3_FAMILY:
        # The emptiness check comes before the kind check, and both S3 types share the
        # "AWS S3" wording (``validate_destination``).
        empty = [
            k for k in ("bucket_name", "region", "prefix") if isinstance(config.get(k), str) and not config[k].strip()
        ]
        if empty:
            raise ValidationError(f"The following inputs are empty: {empty!r}", attr=attr)
        if integration_kind != kind:
            raise ValidationError(
                f"Integration provided is not an AWS S3 integration (got kind='{integration_kind}')", attr=attr
            )
    elif integration_kind != kind:
        raise ValidationError(f"Integration is not {label} integration.", attr=attr)


def _coerce_integration_id(value: Any) -> int | None:
    """The integration id a Redshift COPY credential value encodes, if any (an int or digits)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        # PostHog's int() fails on a digit it cannot read ("²", or past 4,300 of them): a 500
        # there; not an integration id here.
        with contextlib.suppress(ValueError):
            return int(value)
    return None


def _check_copy_inputs(
    config: Mapping[str, Any],
    existing_config: Mapping[str, Any],
    *,
    creating: bool,
    kind_of: Callable[[Any], str | None],
) -> None:
    """Redshift ``mode: COPY``: staging bucket inputs and their credentials."""
    attr = "destination"
    copy_inputs = config.get("copy_inputs") or {}
    if not copy_inputs or not isinstance(copy_inputs, dict):
        raise ValidationError("Missing required inputs for 'COPY'", attr=attr)
    if {"s3_bucket", "region_name", "authorization", "bucket_credentials"} - copy_inputs.keys():
        raise ValidationError("Missing required input for 'COPY'", attr=attr)
    bucket_credentials = copy_inputs["bucket_credentials"]
    authorization = copy_inputs["authorization"]
    bucket_integration = _coerce_integration_id(bucket_credentials)
    authorization_integration = _coerce_integration_id(authorization)
    existing_copy_inputs = existing_config.get("copy_inputs") or {}
    for field_name, integration_id in (
        ("bucket_credentials", bucket_integration),
        ("authorization", authorization_integration),
    ):
        if (
            not creating
            and integration_id is None
            and isinstance(existing_copy_inputs, dict)
            and _coerce_integration_id(existing_copy_inputs.get(field_name)) is not None
        ):
            raise ValidationError(
                f"Cannot switch '{field_name}' from an integration to inline credentials. "
                "Send a different integration ID to swap, or omit the field to keep the current one.",
                attr=attr,
            )
        if integration_id is not None and kind_of(integration_id) != "aws-s3":
            raise ValidationError(
                f"'{field_name}' does not reference an AWS S3 integration of this project.", attr=attr
            )
    if bucket_integration is None and (
        not isinstance(bucket_credentials, dict) or _COPY_CREDENTIAL_KEYS - bucket_credentials.keys()
    ):
        raise ValidationError("Missing required bucket credentials for 'COPY'", attr=attr)
    if authorization_integration is None:
        if isinstance(authorization, dict):
            if _COPY_CREDENTIAL_KEYS - authorization.keys():
                raise ValidationError("Missing required credentials for 'COPY'", attr=attr)
        elif isinstance(authorization, str):
            if not authorization.strip():
                raise ValidationError("Missing required IAM role for 'COPY'", attr=attr)
        else:
            raise ValidationError(
                "Authorization for 'COPY' must be an IAM role ARN, AWS credentials, or an integration ID.", attr=attr
            )


def _valid_host(host: Any) -> bool:
    """The shape part of PostHog's SSRF check: a bare hostname or an IP address.

    Credentials, a scheme, a port or a path make it invalid. PostHog also resolves the
    name and refuses internal addresses; the fake does no DNS (see docs/fidelity.md).
    """
    if not isinstance(host, str) or not host.strip():
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        canonical = host.encode("idna").decode("ascii")
    except ValueError:
        canonical = host
    canonical = canonical.lower().rstrip(".")
    return len(canonical) <= 253 and _BARE_HOSTNAME.fullmatch(canonical) is not None


def _check_file_format(config: Mapping[str, Any], attr: str) -> None:
    file_format = config.get("file_format", "JSONLines")
    if file_format not in SUPPORTED_COMPRESSIONS:
        raise ValidationError(
            f"File format {file_format} is not supported. Supported file formats are {list(SUPPORTED_COMPRESSIONS)!r}",
            attr=attr,
        )
    compression = config.get("compression")
    allowed = SUPPORTED_COMPRESSIONS[file_format]
    if compression and compression not in allowed:
        raise ValidationError(
            f"Compression {compression} is not supported for file format {file_format}. "
            f"Supported compressions are {allowed!r}",
            attr=attr,
        )


def merge_config(stored: Mapping[str, Any], incoming: Mapping[str, Any]) -> dict[str, Any]:
    """PostHog's ``recursive_dict_merge``: omitted keys (secrets included) keep their values."""
    merged = dict(stored)
    for key, value in incoming.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_config(merged[key], value)
        else:
            merged[key] = value
    return merged


def _declared(dest_type: str) -> dict[str, str]:
    return {f.name: f.declared for f in (*DESTINATION_FIELDS.get(dest_type, ()), *BASE_INPUT_FIELDS) if f.declared}


#: Per destination type: the config keys whose stored strings are shown as ints or bools.
_DECLARED: dict[str, dict[str, str]] = {dest_type: _declared(dest_type) for dest_type in DESTINATION_FIELDS}


def rendered_config(dest_type: str, config: dict[str, Any]) -> dict[str, Any]:
    """A destination's config as responses show it: secrets removed, and strings stored in
    ``int`` or ``bool`` fields shown as those types.

    PostHog stores configs in an encrypted JSON field that stringifies values, and its
    serializer turns them back by their declared types on every read
    (``coerce_config_to_declared_types`` in
    ``products/batch_exports/backend/service.py@02b1f511eba060f6e18d0e9100bd270d295141b8``):
    ``"50"`` in ``max_file_size_mb`` reads back as ``50``, ``"abc"`` stays a string, a bool
    field's string is ``True`` only for ``"true"`` in any case, and the integration ids of
    Redshift's ``copy_inputs`` given as digit strings read back as ints.

    >>> rendered_config("AzureBlob", {"container_name": "c", "max_file_size_mb": "50", "prefix": "7"})
    {'container_name': 'c', 'max_file_size_mb': 50, 'prefix': '7'}
    >>> rendered_config("Postgres", {"database": "d", "port": "abc", "password": "hunter2"})
    {'database': 'd', 'port': 'abc'}
    """
    shown = strip_secrets(dest_type, config)
    declared = _DECLARED.get(dest_type, {})
    changes: dict[str, Any] = {}
    for key, value in shown.items():
        if not isinstance(value, str) or key not in declared:
            continue
        if declared[key] == BOOL:
            changes[key] = value.lower() == "true"
        else:
            with contextlib.suppress(ValueError):  # as PostHog's: whatever int() reads, " 5" and "5_0" too
                changes[key] = int(value)
    copy_inputs = shown.get("copy_inputs") if dest_type == "Redshift" else None
    if isinstance(copy_inputs, dict):
        digits = {k: copy_inputs.get(k) for k in ("authorization", "bucket_credentials")}
        ids = {k: i for k, v in digits.items() if isinstance(v, str) and (i := _coerce_integration_id(v)) is not None}
        if ids:
            changes["copy_inputs"] = {**copy_inputs, **ids}
    return {**shown, **changes} if changes else shown


def strip_secrets(dest_type: str, config: Any) -> Any:
    """``config`` without the type's secret keys, at every depth (the stored dict itself when the
    type has none: callers serialise it and never change it)."""
    secrets = SECRET_FIELDS.get(dest_type)
    if not secrets:
        return config
    return _strip(config, secrets)


def _strip(value: Any, secrets: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v, secrets) for k, v in value.items() if k not in secrets}
    if isinstance(value, list):
        return [_strip(v, secrets) for v in value]
    return value
