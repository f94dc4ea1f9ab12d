"""The usage ledger: one durable record per legacy transaction, and the billing export.

record.py      what one record holds (no personal data) and its aggregated form
month.py       billing months (``YYYY-MM``, UTC)
store.py       the store interface; sqlite.py and postgres.py implement it (on the
               shared database plumbing and migrations of ``proxy.db``)
writer.py      group commit: many concurrent records, one database transaction
ledger.py      what the running proxy holds: writer + store (or a disabled ledger)
factory.py     settings -> store and ledger
pricing.py     pricing data (mappings/billing/pricing.yaml) and the pure bill
export.py      the bill as JSON or CSV
"""
