"""The migration cockpit: a web page for the migration team at ``/admin/ui/``.

* ``estate``    one row per tenant, attention reasons, filters and sorting (pure)
* ``figures``   reads the ledger, shadow results and autopilot for the estate (I/O)
* ``session``   the sign-in cookie and the form's anti-forgery token
* ``forms``     the pages' URL-encoded forms, read without a multipart library
* ``routes``    the pages, the live fragments and the stage-change form

Templates, stylesheet, words, charts and translations are ``proxy.pages``: the backtest
and replay reports render with them too, and sit below the cockpit.
"""
