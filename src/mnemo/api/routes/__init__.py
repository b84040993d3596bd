"""Routers of the native API (seed 001), one module per resource."""
