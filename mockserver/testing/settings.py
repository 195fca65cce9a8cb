"""What a test asks of its fake: the ``posthog_mock`` marker over ini options and flags.

Every setting has three spellings, the most specific winning:

==================  ===============================  ===================================
marker argument     ini option (``[pytest]``)        command-line flag
==================  ===============================  ===================================
``clock``           ``posthog_mock_clock``           ``--posthog-mock-clock``
``start``           ``posthog_mock_start``           ``--posthog-mock-start``
``feature_flags``   ``posthog_mock_feature_flags``   ``--posthog-mock-feature-flags``
``scopes``          ``posthog_mock_scopes``          ``--posthog-mock-scopes``
``seed``            ``posthog_mock_seed``            ``--posthog-mock-seed``
``strict``          ``posthog_mock_strict``          ``--posthog-mock-strict``
``scenario``        ``posthog_mock_scenario``        ``--posthog-mock-scenario``
``profile``         ``posthog_mock_profile``         ``--posthog-mock-profile``
(none)              ``posthog_mock_intercept``       ``--posthog-mock-intercept``
(none)              ``posthog_mock_port``            ``--posthog-mock-port``
==================  ===============================  ===================================

Lists are comma- or whitespace-separated in ini files and flags. Markers add up: a
test's own arguments win over its class's, which win over its module's.

>>> settings = Settings().merged({"clock": "private", "feature_flags": ["high-frequency-batch-exports"]})
>>> settings.clock, settings.feature_flags
('private', ('high-frequency-batch-exports',))
>>> Settings().merged({"seed": 3}).clock   # a seed of its own needs a fake of its own
'private'
>>> Settings().merged({"profile": "newest"})
Traceback (most recent call last):
...
mockserver.testing.settings.SettingsError: profile: 'newest' is not one of docs, current
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from mockserver.domain.dates import parse_datetime
from mockserver.domain.store import ALL_SCOPES, FEATURE_FLAGS, SCOPES
from mockserver.http.spec import DEFAULT_PROFILE, PROFILES

__all__ = ["MARKER_ARGUMENTS", "Settings", "SettingsError", "resolve_scenario", "split_list"]

#: The ``posthog_mock`` marker's keyword arguments.
MARKER_ARGUMENTS = ("clock", "start", "feature_flags", "scopes", "seed", "strict", "scenario", "profile")
_CLOCKS = ("shared", "private")


class SettingsError(ValueError):
    """A setting the plugin cannot honour; the message names the setting."""


def split_list(value: str | Iterable[str]) -> tuple[str, ...]:
    """``"a, b c"`` → ``("a", "b", "c")``; a list or tuple is taken as it is."""
    if isinstance(value, str):
        return tuple(part for part in re.split(r"[\s,]+", value) if part)
    return tuple(value)


@dataclass(frozen=True)
class Settings:
    """The fake one test gets."""

    #: ``"shared"``: a tenant on the session's server (its clock is everyone's);
    #: ``"private"``: a fake of the test's own, in process, with its own clock.
    clock: str = "shared"
    #: Where a private clock starts (a shared one starts at ``posthog_mock_start``).
    start: datetime | None = None
    feature_flags: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ALL_SCOPES
    seed: int = 0
    #: Validate every response against the spec, and fail the test at teardown if a
    #: planned fault was never used.
    strict: bool = False
    #: A shipped scenario's name or a path to a YAML file, loaded into the test's tenant.
    scenario: str | None = None
    #: The version of PostHog's API the test's tenant gets: ``"docs"`` (the public docs')
    #: or ``"current"`` (today's PostHog, with the ``hogql`` model and its fields).
    profile: str = DEFAULT_PROFILE
    #: Route requests to ``https://us.posthog.com``/``eu.posthog.com`` to the fake.
    intercept: bool = False
    #: The shared server's port (0: any free one). Session-wide: not a marker argument.
    port: int = 0

    def __post_init__(self) -> None:
        if self.clock not in _CLOCKS:
            raise SettingsError(f"clock: {self.clock!r} is not one of {', '.join(_CLOCKS)}")
        if self.profile not in PROFILES:
            raise SettingsError(f"profile: {self.profile!r} is not one of {', '.join(PROFILES)}")
        unknown = [f for f in self.feature_flags if f not in FEATURE_FLAGS]
        if unknown:
            raise SettingsError(f"feature_flags: unknown flag {unknown[0]!r} (known: {', '.join(FEATURE_FLAGS)})")
        unknown = [s for s in self.scopes if s not in SCOPES]
        if unknown:
            raise SettingsError(
                f"scopes: unknown scope {unknown[0]!r} (expected * or <object>:read|write, e.g. batch_export:read)"
            )

    def merged(self, overrides: Mapping[str, Any], *, per_test: bool = True) -> Settings:
        """These settings with a marker's (``per_test``) or the options' values on top.

        A test's own ``start`` or ``seed`` implies ``clock="private"``: the shared server
        has one clock and one seed for everyone (the options' ``start`` and ``seed``
        configure that server itself).
        """
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise SettingsError(f"unknown setting {unknown[0]!r} (known: {', '.join(MARKER_ARGUMENTS)})")
        values: dict[str, Any] = {}
        for name, value in overrides.items():
            values[name] = _coerce(name, value)
        own_time = per_test and ("start" in values or "seed" in values)
        if own_time and "clock" not in values:
            values["clock"] = "private"
        merged = replace(self, **values)
        if merged.clock == "shared" and own_time:
            raise SettingsError('start and seed need clock="private": the shared server has one clock and one seed')
        return merged


def _coerce(name: str, value: Any) -> Any:
    """A marker argument or an option's text as the setting's type, or a :class:`SettingsError`."""
    if name in ("feature_flags", "scopes"):
        if not isinstance(value, (str, list, tuple)) or not all(isinstance(v, str) for v in split_list(value)):
            raise SettingsError(f"{name}: expected a list of strings, got {value!r}")
        return split_list(value)
    if name == "start":
        if isinstance(value, datetime):
            when: datetime | None = value
        else:
            when = parse_datetime(value) if isinstance(value, str) else None
        if when is None or when.tzinfo is None:
            raise SettingsError(
                f"start: expected an ISO 8601 datetime (UTC unless it gives an offset)"
                f" or a timezone-aware datetime, got {value!r}"
            )
        return when
    if name in ("seed", "port"):
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            number = int(value)
        else:  # 1.5 or True would otherwise pass as 1
            return _bad(name, "an integer", value)
        if name == "port" and not 0 <= number <= 65535:
            return _bad(name, "a port number (0 to 65535)", value)
        return number
    if name in ("strict", "intercept"):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
        return _bad(name, "true or false", value)
    if name == "scenario" and isinstance(value, os.PathLike):
        return os.fspath(value)
    if name == "scenario" and value is None:
        return None  # a marker's way to load no scenario where the ini or the command line names one
    if name in ("clock", "scenario", "profile") and not isinstance(value, str):
        return _bad(name, "a string", value)
    return value


def _bad(name: str, expected: str, value: Any) -> Any:
    raise SettingsError(f"{name}: expected {expected}, got {value!r}")


def resolve_scenario(scenario: str, bases: Iterable[Path]) -> str:
    """A shipped scenario's name as it is; a relative path found from the first of
    ``bases`` (then the current folder) that has it, made absolute.

    >>> resolve_scenario("failing-snowflake", [])
    'failing-snowflake'
    >>> resolve_scenario("no/such.yaml", [Path("/nowhere")])
    Traceback (most recent call last):
    ...
    mockserver.testing.settings.SettingsError: scenario: no such file as 'no/such.yaml' in /nowhere or ..., nor a shipped scenario (shipped: ...)
    """  # noqa: E501
    from mockserver.fixtures import shipped_scenarios

    shipped = shipped_scenarios()
    path = Path(scenario)
    if scenario in shipped or path.is_absolute():
        return scenario
    looked = [*bases, Path.cwd()]
    for base in looked:
        if (base / path).is_file():
            return str((base / path).resolve())
    places = " or ".join(dict.fromkeys(str(base) for base in looked))
    raise SettingsError(
        f"scenario: no such file as {scenario!r} in {places}, nor a shipped scenario (shipped: {', '.join(shipped)})"
    )
