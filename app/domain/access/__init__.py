"""People and access (domain §1): roles, principals, record scope, users and departments."""
