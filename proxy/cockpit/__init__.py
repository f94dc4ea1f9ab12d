"""The migration cockpit: a web page for the migration team at ``/admin/ui/``.

* ``i18n``      language choice, translated words, Babel numbers and Brasília dates (pure)
* ``words``     plain words for legacy fields and kinds of difference (pure)
* ``charts``    inline SVG geometry for sparklines, bars, scatter and matrices (pure)
* ``estate``    one row per tenant, attention reasons, filters and sorting (pure)
* ``figures``   reads the ledger, shadow results and autopilot for the estate (I/O)
* ``session``   the sign-in cookie and the form's anti-forgery token
* ``templates`` the Jinja2 environment shared with the backtest and replay reports
* ``routes``    the pages, the live fragments and the stage-change form
"""
