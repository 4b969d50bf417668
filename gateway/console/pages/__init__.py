"""The console's pages, one module per screen; :mod:`gateway.console.routes` mounts them."""
