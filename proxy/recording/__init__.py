"""The recorder: answered legacy exchanges, masked, kept for the replay tool (``proxy.replay``).

It runs inside the proxy, on the request path's after-answer side, and never in its way:

* ``recorder``   ``Recorder.offer(exchange, answer)``: sampled, queued, saved in the background
* ``capture``    one exchange -> one masked corpus entry (pure; ``proxy.privacy`` pseudonyms)
* ``key``        the pseudonym key
* ``reanswer``   the built-in legacy simulator asked again, for the masked request
* ``routing``    a recorded path -> its route and transaction id (pure; the replay tool uses it too)

Its settings are ``proxy.config.RecorderSettings``; the line format of an entry is
``proxy.state.corpus`` (the state store keeps entries). Nothing here imports the replay
tool or the runtime: the tool sits above them both.
"""
