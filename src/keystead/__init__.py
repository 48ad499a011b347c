"""Keystead: an AWS-KMS-compatible key management service with AWS IAM/STS access control."""
__version__ = "0.1.0"
