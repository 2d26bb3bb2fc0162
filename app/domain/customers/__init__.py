"""Customers and contacts (客户档案, domain §2)."""
