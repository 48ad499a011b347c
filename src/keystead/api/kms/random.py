"""KMS GenerateRandom: random bytes from the OS CSPRNG. An IAM-only action with no key resource."""

from __future__ import annotations

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.api.kms.common import KmsDeps, Params, Result
from keystead.crypto.symmetric import random_bytes
from keystead.errors import UnsupportedOperationError, ValidationError


class Randomness:
    def __init__(self, deps: KmsDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {"GenerateRandom": Handler(self.generate_random, read_only=True)}

    async def generate_random(self, ctx: RequestContext, params: Params) -> Result:
        # Resource "*": only identity policies can allow it (spec kms.md §2); root always may.
        await ctx.authorize("kms:GenerateRandom", None)
        if params.get("custom_key_store_id"):
            raise UnsupportedOperationError("Custom key stores are not supported by this server.")
        if params.get("recipient"):
            raise UnsupportedOperationError("Recipient (Nitro Enclaves attestation) is not supported by this server.")
        size = params.get("number_of_bytes")
        if size is None:
            # The model leaves NumberOfBytes optional; KMS itself refuses a request without it.
            raise ValidationError(
                "1 validation error detected: Value null at 'numberOfBytes' failed to satisfy constraint: "
                "Member must not be null"
            )
        return {"plaintext": random_bytes(size)}
