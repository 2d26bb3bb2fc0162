"""Knowledge base (知识库, domain §8): articles drawn from changes, handovers and customers."""
