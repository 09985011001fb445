"""Usage events, pricing and the ledger that stores them."""
