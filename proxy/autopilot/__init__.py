"""The migration autopilot: each tenant walked through its stages on measured gates.

``plan`` (what a tenant's walk looks like, with defaults from ``compare.yaml``),
``figures`` and ``gates`` (pure: rows in, figures and a decision out), ``store``
(plans, decisions and the leader lease in the proxy's database), ``evaluator``
(the loop that decides, one replica at a time) and ``estate`` (the whole
migration at a glance, and which legacy backends can be switched off).
"""
