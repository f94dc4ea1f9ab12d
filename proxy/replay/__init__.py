"""The replay tool: a recorded corpus replayed through the PDT path, offline or in CI.

The recorder that fills the corpus runs inside the proxy (``proxy.recording``); the
line format is ``proxy.state.corpus``. This package is the tool on top of them:

* ``export``     ``pdt-proxy record export``: one tenant's exchanges as one corpus
* ``files``      corpus files on disk, oldest first
* ``targets``    the in-process PDT simulator path, or a running proxy at a URL
* ``replayer``   entries in order -> outcomes (transaction ids carried across requests)
* ``report``     outcomes -> summary and verdict (pure); ``html``: the page
* ``session``    one run end to end; ``commands``: the CLI; ``pytest_support``: CI
* ``sample``     the sample corpus from the legacy simulator

Format and usage: docs/replay.md.
"""
