"""DryRun: authorize and validate a request fully, then answer DryRunOperationException.

AWS: "the request would have succeeded" is only claimed after the same permission and input
checks the real call makes, so handlers call `finish_dry_run` as the step before the effect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keystead.errors import DryRunOperationError, ValidationError

DRY_RUN_MESSAGE = "The request would have succeeded, but the DryRun option is set."
IGNORE_CIPHERTEXT = "IGNORE_CIPHERTEXT"


def is_dry_run(params: Mapping[str, Any]) -> bool:
    return bool(params.get("dry_run"))


def ignores_ciphertext(params: Mapping[str, Any]) -> bool:
    """DryRunModifiers=IGNORE_CIPHERTEXT: check permissions without a valid ciphertext.

    Raises:
        ValidationError: the modifier without DryRun.
    """
    ignore = IGNORE_CIPHERTEXT in (params.get("dry_run_modifiers") or [])
    if ignore and not is_dry_run(params):
        raise ValidationError("DryRunModifiers can only be used when DryRun is true.")
    return ignore


def finish_dry_run(params: Mapping[str, Any]) -> None:
    """Stop a dry run here, after every check passed.

    Raises:
        DryRunOperationError: DryRun is set.
    """
    if is_dry_run(params):
        raise DryRunOperationError(DRY_RUN_MESSAGE)
