"""The IAM domain: naming and ARNs, lookups, policy documents and quotas, AWS managed policies,
access keys and passwords. Storage is reached through `Tx`; nothing here touches the wire."""
