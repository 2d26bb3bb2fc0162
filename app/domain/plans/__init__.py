"""Customer plans (客户方案) and expectations (预期管理), domain §5."""
