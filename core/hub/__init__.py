"""The hub and what reads from it: the proxy and its tap, counting (gaps, stats, the
ledger), the byte-bounded intake, the viewers' feed, late joiners and forwarding.
"""
