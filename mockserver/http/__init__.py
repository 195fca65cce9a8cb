"""The HTTP side of the fake: routing, validation against the spec, auth, serialisation."""
