"""Destination connectivity checks: the steps PostHog's ``test`` and ``run_test_step`` endpoints know.

PostHog has connectivity checks for the S3 family, BigQuery, Snowflake, Databricks and
Azure Blob, listed in ``products/batch_exports/backend/api/destination_tests/__init__.py``
at ``283fd20eefa6e1653278728a35a844eeea862ae8``.
The fake has steps for the same types, named and described in PostHog's style but its
own (docs/fidelity.md), and reports every step it is asked to run as passed: it never
reaches the destination.

>>> [name for name, _ in steps_for("BigQuery")]
['Verify BigQuery project', 'Verify BigQuery dataset', 'Verify BigQuery table']
>>> steps_for("Postgres") is None
True
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from mockserver.errors import ValidationError

__all__ = ["TEST_STEPS", "step", "steps_for"]

_STEPS: dict[str, tuple[tuple[str, str], ...]] = {
    "S3": (
        (
            "Verify S3 bucket",
            "Ensure the configured S3 bucket exists and that we have the required permissions to access it.",
        ),
    ),
    "BigQuery": (
        (
            "Verify BigQuery project",
            "Ensure the configured BigQuery project exists and that we have the required permissions to access it.",
        ),
        (
            "Verify BigQuery dataset",
            "Ensure the configured BigQuery dataset exists and that we have the required permissions to access it.",
        ),
        ("Verify BigQuery table", "Ensure the configured BigQuery table exists or that we can create it."),
    ),
    "Snowflake": (
        ("Verify Snowflake connection", "Ensure we can connect to Snowflake with the configured credentials."),
        (
            "Verify Snowflake warehouse",
            "Ensure the configured warehouse exists and that we have the required permissions to use it.",
        ),
        (
            "Verify Snowflake database",
            "Ensure the configured database exists and that we have the required permissions to use it.",
        ),
        (
            "Verify Snowflake schema",
            "Ensure the configured schema exists and that we have the required permissions to use it.",
        ),
        ("Verify Snowflake table", "Ensure the configured table exists or that we can create it."),
    ),
    "Databricks": (
        ("Verify Databricks connection", "Ensure we can connect to Databricks with the configured integration."),
        (
            "Verify Databricks catalog",
            "Ensure the configured catalog exists and that we have the required permissions to use it.",
        ),
        (
            "Verify Databricks schema",
            "Ensure the configured schema exists and that we have the required permissions to use it.",
        ),
    ),
    "AzureBlob": (
        (
            "Verify Azure Blob container",
            "Ensure the configured container exists and that we have the required permissions to write to it.",
        ),
    ),
}
_STEPS["AwsS3"] = _STEPS["S3Compatible"] = _STEPS["S3"]
#: Read-only: shared by every fake in the process.
TEST_STEPS: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType(_STEPS)


def steps_for(destination_type: str) -> tuple[tuple[str, str], ...] | None:
    """``(name, description)`` of each check, in order; ``None`` for a type without checks."""
    return TEST_STEPS.get(destination_type)


def step(destination_type: str, index: object) -> tuple[str, str]:
    """The ``index``-th check of a destination type, which the caller then reports as passed.

    PostHog indexes its list, so a negative step counts from the end (``-1`` is the last
    check), and fails with a 500 (``IndexError``) out of range; the fake answers a 400 on
    ``step`` instead.
    """
    steps = TEST_STEPS.get(destination_type, ())
    if not isinstance(index, int) or isinstance(index, bool) or not -len(steps) <= index < len(steps):
        raise ValidationError(f"Invalid step {index}: this destination has {len(steps)} test steps.", attr="step")
    return steps[index]
