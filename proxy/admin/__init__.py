"""The authenticated admin API (``/admin/...``): billing export now, tenants later.

auth.py           the bearer-token check every admin route goes through
ledger_routes.py  GET /admin/ledger?month=YYYY-MM[&tenant=T]
routes.py         every admin route, for the app to mount
"""
