"""The single error hierarchy. Every failure a client can see is one of these classes.

Each class carries its AWS wire code and HTTP status for both wire protocols (awsJson1_1 for
KMS, awsQuery/XML for IAM and STS spell some codes differently), whether the client is at fault,
and whether a retry may succeed. `protocol/` renders them; nothing else formats errors.

    KeysteadError
    ├── ClientError                          (the caller is at fault; 4xx)
    │   ├── AuthenticationError
    │   │   ├── MissingAuthenticationTokenError
    │   │   ├── IncompleteSignatureError
    │   │   ├── InvalidSignatureError        (SignatureDoesNotMatch in awsQuery)
    │   │   ├── UnrecognizedClientError      (InvalidClientTokenId in awsQuery)
    │   │   └── ExpiredTokenError
    │   ├── AccessDeniedError
    │   ├── RequestError
    │   │   ├── ValidationError              (ValidationException / ValidationError)
    │   │   ├── SerializationError
    │   │   ├── UnknownOperationError        (InvalidAction in awsQuery)
    │   │   ├── MissingParameterError        (awsQuery only)
    │   │   └── UnsupportedMediaTypeError
    │   ├── MalformedPolicyDocumentError     (MalformedPolicyDocument in awsQuery)
    │   ├── LimitExceededError               (LimitExceeded in awsQuery)
    │   ├── ServiceError                     (any modelled error, by code: NotFoundException, ...)
    │   │   └── the KMS, IAM and STS modelled errors below
    │   └── ThrottlingError
    └── ServerError                          (we are at fault; 5xx)
        ├── InternalError                    (KMSInternalException / InternalFailure)
        ├── RootKeyError                     (the root of trust cannot be loaded or created)
        └── KeyringError                     (a wrapped secret or keyring term does not open)
"""

from __future__ import annotations

from typing import ClassVar


class KeysteadError(Exception):
    """Base of every error a client may see."""

    code: ClassVar[str] = "InternalFailure"
    status: ClassVar[int] = 500
    query_code: ClassVar[str | None] = None  # awsQuery spelling, when it differs
    query_status: ClassVar[int | None] = None
    sender_fault: ClassVar[bool] = False
    retryable: ClassVar[bool] = False
    default_message: ClassVar[str] = ""

    def __init__(self, message: str | None = None) -> None:
        self.message = self.default_message if message is None else message
        super().__init__(self.message)

    def wire_code(self, query: bool) -> str:
        """The error code as the given protocol spells it."""
        if query and self.query_code is not None:
            return self.query_code
        return self.code

    def wire_status(self, query: bool) -> int:
        if query and self.query_status is not None:
            return self.query_status
        return self.status


class ClientError(KeysteadError):
    code = "ClientError"
    status = 400
    sender_fault = True


class ServerError(KeysteadError):
    code = "InternalFailure"
    status = 500


class InternalError(ServerError):
    code = "KMSInternalException"
    query_code = "InternalFailure"
    default_message = "We encountered an internal error. Please try again."
    retryable = True


class RootKeyError(ServerError):
    """The root key cannot be created or loaded (missing, unsafe mode, wrong passphrase, corrupt)."""

    code = "KMSInternalException"
    query_code = "InternalFailure"


class KeyringError(ServerError):
    """A keyring term or a wrapped secret failed to open: wrong root key, tampering, unknown term."""

    code = "KMSInternalException"
    query_code = "InternalFailure"


# --- Authentication (SigV4) ---------------------------------------------------------------


class AuthenticationError(ClientError):
    code = "UnrecognizedClientException"
    query_status = 403


class MissingAuthenticationTokenError(AuthenticationError):
    code = "MissingAuthenticationTokenException"
    query_code = "MissingAuthenticationToken"
    default_message = "Request is missing Authentication Token"


class IncompleteSignatureError(AuthenticationError):
    code = "IncompleteSignatureException"
    query_code = "IncompleteSignature"
    query_status = 400


class InvalidSignatureError(AuthenticationError):
    code = "InvalidSignatureException"
    query_code = "SignatureDoesNotMatch"
    default_message = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. "
        "Consult the service documentation for details."
    )


class UnrecognizedClientError(AuthenticationError):
    code = "UnrecognizedClientException"
    query_code = "InvalidClientTokenId"
    default_message = "The security token included in the request is invalid."


class ExpiredTokenError(AuthenticationError):
    code = "ExpiredTokenException"
    query_code = "ExpiredToken"
    default_message = "The security token included in the request is expired"


# --- Authorization -------------------------------------------------------------------------


class AccessDeniedError(ClientError):
    code = "AccessDeniedException"
    query_code = "AccessDenied"
    query_status = 403


# --- Malformed requests --------------------------------------------------------------------


class RequestError(ClientError):
    code = "ValidationException"


class ValidationError(RequestError):
    code = "ValidationException"
    query_code = "ValidationError"


class SerializationError(RequestError):
    code = "SerializationException"
    query_code = "MalformedQueryString"


class UnknownOperationError(RequestError):
    code = "UnknownOperationException"
    query_code = "InvalidAction"


class MissingParameterError(RequestError):
    code = "MissingParameter"


class UnsupportedMediaTypeError(RequestError):
    code = "UnsupportedMediaTypeException"
    status = 415


class ThrottlingError(ClientError):
    code = "ThrottlingException"
    query_code = "Throttling"
    retryable = True


# --- Errors that KMS and IAM both model, with their two spellings --------------------------


class MalformedPolicyDocumentError(ClientError):
    code = "MalformedPolicyDocumentException"
    query_code = "MalformedPolicyDocument"


class LimitExceededError(ClientError):
    code = "LimitExceededException"
    query_code = "LimitExceeded"
    query_status = 409


# --- Modelled service errors ---------------------------------------------------------------


class ServiceError(ClientError):
    """An error named in a botocore service model. Subclasses fix the code and status."""


def _service_error(name: str, code: str, status: int = 400) -> type[ServiceError]:
    return type(name, (ServiceError,), {"code": code, "status": status, "__module__": __name__})


# KMS (awsJson1_1). Statuses are AWS's: KMS answers 400 for all of these but the internal ones.
NotFoundError = _service_error("NotFoundError", "NotFoundException")
DisabledError = _service_error("DisabledError", "DisabledException")
KMSInvalidStateError = _service_error("KMSInvalidStateError", "KMSInvalidStateException", 409)
InvalidCiphertextError = _service_error("InvalidCiphertextError", "InvalidCiphertextException")
InvalidKeyUsageError = _service_error("InvalidKeyUsageError", "InvalidKeyUsageException")
IncorrectKeyError = _service_error("IncorrectKeyError", "IncorrectKeyException")
TagError = _service_error("TagError", "TagException")
AlreadyExistsError = _service_error("AlreadyExistsError", "AlreadyExistsException")
InvalidArnError = _service_error("InvalidArnError", "InvalidArnException")
InvalidAliasNameError = _service_error("InvalidAliasNameError", "InvalidAliasNameException")
InvalidMarkerError = _service_error("InvalidMarkerError", "InvalidMarkerException")
InvalidGrantTokenError = _service_error("InvalidGrantTokenError", "InvalidGrantTokenException")
InvalidGrantIdError = _service_error("InvalidGrantIdError", "InvalidGrantIdException")
InvalidImportTokenError = _service_error("InvalidImportTokenError", "InvalidImportTokenException")
IncorrectKeyMaterialError = _service_error("IncorrectKeyMaterialError", "IncorrectKeyMaterialException")
ExpiredImportTokenError = _service_error("ExpiredImportTokenError", "ExpiredImportTokenException")
UnsupportedOperationError = _service_error("UnsupportedOperationError", "UnsupportedOperationException")
KeyUnavailableError = _service_error("KeyUnavailableError", "KeyUnavailableException", 500)
DependencyTimeoutError = _service_error("DependencyTimeoutError", "DependencyTimeoutException", 500)
DryRunOperationError = _service_error("DryRunOperationError", "DryRunOperationException", 412)
KMSInvalidSignatureError = _service_error("KMSInvalidSignatureError", "KMSInvalidSignatureException")
KMSInvalidMacError = _service_error("KMSInvalidMacError", "KMSInvalidMacException")
ConflictError = _service_error("ConflictError", "ConflictException", 409)
# Not in the model, but what KMS answers for names under the reserved alias/aws/ prefix.
NotAuthorizedError = _service_error("NotAuthorizedError", "NotAuthorizedException")

# IAM and STS (awsQuery). Statuses from the botocore models' error traits.
NoSuchEntityError = _service_error("NoSuchEntityError", "NoSuchEntity", 404)
EntityAlreadyExistsError = _service_error("EntityAlreadyExistsError", "EntityAlreadyExists", 409)
DeleteConflictError = _service_error("DeleteConflictError", "DeleteConflict", 409)
UnmodifiableEntityError = _service_error("UnmodifiableEntityError", "UnmodifiableEntity", 400)
PasswordPolicyViolationError = _service_error(
    "PasswordPolicyViolationError", "PasswordPolicyViolation", 400
)
InvalidInputError = _service_error("InvalidInputError", "InvalidInput", 400)
PolicyNotAttachableError = _service_error("PolicyNotAttachableError", "PolicyNotAttachable", 400)
EntityTemporarilyUnmodifiableError = _service_error(
    "EntityTemporarilyUnmodifiableError", "EntityTemporarilyUnmodifiable", 409
)
InvalidAuthenticationCodeError = _service_error(
    "InvalidAuthenticationCodeError", "InvalidAuthenticationCode", 403
)
PackedPolicyTooLargeError = _service_error("PackedPolicyTooLargeError", "PackedPolicyTooLarge", 400)
InvalidIdentityTokenError = _service_error("InvalidIdentityTokenError", "InvalidIdentityToken", 400)
IDPRejectedClaimError = _service_error("IDPRejectedClaimError", "IDPRejectedClaim", 403)
RegionDisabledError = _service_error("RegionDisabledError", "RegionDisabledException", 403)
InvalidAuthorizationMessageError = _service_error(
    "InvalidAuthorizationMessageError", "InvalidAuthorizationMessageException", 400
)

# EC2 (the ec2 query dialect; only the VPC endpoint subset). Generic errors (access denied,
# validation, ...) get their EC2 spelling from the ec2 codec in protocol/.
InvalidVpcEndpointIdNotFoundError = _service_error(
    "InvalidVpcEndpointIdNotFoundError", "InvalidVpcEndpointId.NotFound", 400
)
InvalidVpcEndpointIdMalformedError = _service_error(
    "InvalidVpcEndpointIdMalformedError", "InvalidVpcEndpointId.Malformed", 400
)
InvalidPolicyDocumentError = _service_error("InvalidPolicyDocumentError", "InvalidPolicyDocument", 400)
InvalidParameterValueError = _service_error("InvalidParameterValueError", "InvalidParameterValue", 400)
InvalidParameterCombinationError = _service_error(
    "InvalidParameterCombinationError", "InvalidParameterCombination", 400
)
Ec2DryRunOperationError = _service_error("Ec2DryRunOperationError", "DryRunOperation", 412)

# CloudTrail (awsJson1_1; LookupEvents only).
InvalidLookupAttributesError = _service_error("InvalidLookupAttributesError", "InvalidLookupAttributesException")
InvalidTimeRangeError = _service_error("InvalidTimeRangeError", "InvalidTimeRangeException")
InvalidNextTokenError = _service_error("InvalidNextTokenError", "InvalidNextTokenException")

# STS web identity (AssumeRoleWithWebIdentity). The model spells the expired-JWT error
# ExpiredTokenException even in awsQuery, unlike an expired session token (ExpiredToken).
IDPCommunicationError = _service_error("IDPCommunicationError", "IDPCommunicationError", 400)
ExpiredWebIdentityTokenError = _service_error("ExpiredWebIdentityTokenError", "ExpiredTokenException", 400)
