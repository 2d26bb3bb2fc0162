"""Change requests (变更管理, domain §3): workflow, assessment, approval policy."""
