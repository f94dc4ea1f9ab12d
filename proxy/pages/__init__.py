"""What every HTML page renders with: the cockpit's and the backtest and replay reports'.

* ``templates`` the Jinja2 environment, the templates and the one stylesheet (``static/``)
* ``i18n``      language choice, translated words, Babel numbers and Brasília dates (pure)
* ``messages``  every sentence in Brazilian Portuguese and English (data)
* ``words``     plain words for legacy fields and kinds of difference (pure)
* ``charts``    inline SVG geometry for sparklines, bars, scatter and matrices (pure)

Below the cockpit (``proxy.cockpit``), the backtest and the replay tool, which all use it:
none of them imports another to draw a page.
"""
