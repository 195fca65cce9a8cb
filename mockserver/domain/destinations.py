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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.errors import PermissionDenied, ValidationError

__all__ = [
    "ALLOWED_HTTP_URLS",
    "DESTINATION_TYPES",
    "INTEGRATION_KINDS",
    "ConfigField",
    "check_config",
    "merge_config",
    "strip_secrets",
]

# Annotation kinds: a plain class is type-checked; OPTIONAL is not (``str | None`` etc.).
STR, INT, BOOL, OPTIONAL = "str", "int", "bool", "optional"


@dataclass(frozen=True)
class ConfigField:
    name: str
    kind: str = OPTIONAL
    required: bool = False


def _f(spec: str) -> ConfigField:
    """``"bucket_name:str!"`` → required str; ``"port:int"`` → typed with a default; ``"role"`` → optional."""
    required = spec.endswith("!")
    spec = spec.rstrip("!")
    name, _, kind = spec.partition(":")
    return ConfigField(name, kind or OPTIONAL, required)


def _fields(*specs: str) -> tuple[ConfigField, ...]:
    return tuple(_f(s) for s in specs)


#: ``BaseBatchExportInputs``: legal config keys for every type, never required here.
BASE_INPUT_FIELDS = _fields(
    "batch_export_id:str", "team_id:int", "interval:str", "timezone:str", "data_interval_end",
    "exclude_events", "include_events", "is_backfill:bool", "is_earliest_backfill:bool",
    "backfill_details", "batch_export_model", "batch_export_schema", "integration_id",
)  # fmt: skip

_S3_COMMON = (
    "bucket_name:str!", "region:str!", "prefix:str!", "compression", "file_format:str",
    "max_file_size_mb", "legacy_parquet_extension:bool",
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
        "port:int",
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
        "mode:str",
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
        "max_file_size_mb",
        "legacy_parquet_extension:bool",
    ),
    "HTTP": _fields("url:str!", "token:str!"),
    "NoOp": _fields("arg:str"),
    "Workflows": _fields("hog_function_id:str!"),
    "FileDownload": _fields(
        "data_interval_start",
        "batch_export_run_id",
        "file_format:str",
        "max_file_size_mb",
        "compression",
        "expires_in_seconds:int",
        "main_activity_timeout_seconds",
        "stage_activity_timeout_seconds",
    ),
}

#: Every type the API accepts in ``destination.type``; ``S3`` only to reject it.
DESTINATION_TYPES = ("S3", *DESTINATION_FIELDS)

#: Keys removed from every response, at any depth (``secret_fields``, models@c2541074).
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
    return value.strip().lower() in _TRUTHY


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


def _py_type(value: Any) -> str:
    """Python's name for a JSON value's type, as PostHog's messages print it."""
    return type(value).__name__


def check_destination(
    dest_type: str,
    config: Mapping[str, Any],
    integration_kind: str | None,
    *,
    creating: bool,
    had_integration: bool,
    feature_flags: set[str],
) -> None:
    """Type-specific rules of ``validate_destination`` (attr ``destination``).

    Args:
        config: the effective config (stored config merged with the request's).
        integration_kind: kind of the effective integration, ``None`` when there is none.
        had_integration: the export being updated already had an integration.
    """
    attr = "destination"
    if dest_type == "Workflows" and "backfill-workflows-destination" not in feature_flags:
        raise PermissionDenied("Backfilling Workflows is not enabled for this team.")
    if dest_type == "HTTP" and config.get("url") not in ALLOWED_HTTP_URLS:
        raise ValidationError(f"Invalid destination URL: {config.get('url')}", attr=attr)
    if dest_type in INTEGRATION_KINDS:
        kind, label = INTEGRATION_KINDS[dest_type]
        name = _DISPLAY_NAMES.get(dest_type, dest_type)
        if integration_kind is None:
            if had_integration and dest_type in INTEGRATION_NOT_REMOVABLE:
                raise ValidationError(
                    f"Cannot remove the integration from a {dest_type} batch export that uses one. "
                    "Re-send its `integration` to keep it (or a different one to swap).",
                    attr=attr,
                )
            if creating or dest_type not in INTEGRATION_REQUIRED_ON_CREATE_ONLY:
                raise ValidationError(f"Integration is required for {name} batch exports", attr=attr)
        elif integration_kind != kind:
            if dest_type in ("AwsS3", "S3Compatible"):
                wanted = "an AWS S3" if dest_type == "AwsS3" else "an S3-compatible"
                raise ValidationError(
                    f"Integration provided is not {wanted} integration (got kind='{integration_kind}')", attr=attr
                )
            raise ValidationError(f"Integration is not {label} integration.", attr=attr)
    if dest_type in ("AwsS3", "S3Compatible"):
        empty = [
            k for k in ("bucket_name", "region", "prefix") if isinstance(config.get(k), str) and not config[k].strip()
        ]
        if empty:
            raise ValidationError(f"The following inputs are empty: {empty!r}", attr=attr)
    if dest_type in ("AwsS3", "S3Compatible", "AzureBlob"):
        _check_file_format(config, attr)
    if dest_type == "Redshift":
        if integration_kind is not None and not config.get("host"):
            raise ValidationError(
                "A 'host' is required when using an AWS Redshift integration: "
                "set it to the cluster or workgroup endpoint.",
                attr=attr,
            )
        if config.get("mode") == "COPY" and not config.get("copy_inputs"):
            raise ValidationError("Missing required inputs for 'COPY'", attr=attr)


def _check_file_format(config: Mapping[str, Any], attr: str) -> None:
    file_format = config.get("file_format", "JSONLines")
    if file_format not in SUPPORTED_COMPRESSIONS:
        raise ValidationError(
            f"File format {file_format} is not supported. Supported file formats are {list(SUPPORTED_COMPRESSIONS)!r}",
            attr=attr,
        )
    compression = config.get("compression")
    allowed = SUPPORTED_COMPRESSIONS[file_format]
    if compression is not None and compression not in allowed:
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


def strip_secrets(dest_type: str, config: Any) -> Any:
    """A copy of ``config`` without the type's secret keys, at every depth."""
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
