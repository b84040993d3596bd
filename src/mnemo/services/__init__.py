"""Services: the use cases behind every API dialect, written against the ports."""
