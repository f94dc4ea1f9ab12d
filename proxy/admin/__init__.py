"""The authenticated admin API (``/admin/...``): billing export now, tenants later.

auth.py           the bearer-token check every admin route goes through
ledger_routes.py  GET /admin/ledger?month=YYYY-MM[&tenant=T]
routes.py         every admin API route, for the app to mount (the cockpit beside them)
"""
