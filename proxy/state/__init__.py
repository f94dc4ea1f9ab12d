"""The proxy's runtime state, kept in the proxy's one database (``proxy.db``).

records.py     a stage change (the audit row), a stage override, a shadow result
corpus.py      a recorded exchange and its corpus line format (the recorder writes entries,
               the store keeps them, the replay tool reads them)
store.py       the store interface; sqlite.py and postgres.py implement it
factory.py     settings -> store (the ledger's file or DSN: one database)
sink.py        the store as the shadow runner's sink
"""
