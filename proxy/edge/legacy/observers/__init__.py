"""After-answer observers of the legacy pipeline, one concern each (see ``Observer``)."""
