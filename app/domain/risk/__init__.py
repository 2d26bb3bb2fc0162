"""Risk (风险管理, domain §7): the risk matrix shared by change, handover and register risks."""
