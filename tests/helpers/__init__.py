"""Test harness pieces: real servers on loopback, ports, keys."""
