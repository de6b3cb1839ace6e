"""Suite-wide pytest configuration: tiers are markers (``slow``, ``browser``, ``postgres``)."""
