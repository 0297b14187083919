"""Generic constructs, reused by the constructs of each API."""
