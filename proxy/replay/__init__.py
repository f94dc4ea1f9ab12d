"""Record and replay: legacy traffic, masked, replayed through the PDT path in CI.

Recording (on the request path, never in its way):

* ``settings``   ``RecorderSettings``: enabled, sample rate, size cap, queue, directory, key
* ``recorder``   ``Recorder.offer(exchange, answer)``: sampled, queued, written in the background
* ``capture``    one exchange -> one masked corpus entry (pure; ``proxy.privacy`` pseudonyms)
* ``corpus``     the line format (``mappings/corpus.schema.json``), reading and writing lines
* ``files``      append with a size cap and rotation; ``key``: the pseudonym key
* ``export``     ``pdt-proxy record export``: one tenant's exchanges as one corpus

Replaying:

* ``routing``    a recorded path -> its route and transaction id (pure)
* ``targets``    the in-process PDT simulator path, or a running proxy at a URL
* ``replayer``   entries in order -> outcomes (transaction ids carried across requests)
* ``report``     outcomes -> summary and verdict (pure); ``html``: the page
* ``session``    one run end to end; ``commands``: the CLI; ``pytest_support``: CI
* ``sample``     the sample corpus from the legacy simulator

Format and usage: docs/replay.md.
"""
