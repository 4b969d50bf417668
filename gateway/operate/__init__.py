"""Running a site day to day: reloading the registry, reloading brokers, backups,
readiness for systemd. Each module is one operator task; :mod:`gateway.cli` exposes them."""
