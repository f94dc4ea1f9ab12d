"""The backtest a customer-success manager shows a client before cut-over.

``report`` aggregates a tenant's shadow results over a time window into figures and
a readiness verdict (pure); ``html`` renders them as one self-contained page.
"""
