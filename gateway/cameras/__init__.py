"""Camera health monitor: finds dead, frozen, black, covered or blurred cameras.

Where things happen, in the order a probe flows::

    config.py       CamerasConfig: facilities, cameras, thresholds, incident policy
    scheduler.py    CameraMonitor.run(): sweeps, bounded concurrency, hard timeouts
    pool.py         ProcessProber: long-lived worker processes, killed when hung
    worker.py       python -m gateway.cameras.worker: one JSON line in, one out
    capture.py      in the worker: rtsp.check, then OpenCV open and frame sample
    rtsp.py         OPTIONS + DESCRIBE over a raw socket: refused/timeout/401/404
    analysis.py     pure picture measures (table of faults and thresholds)
    modes.py        day, night or infrared, from the picture's luma and colour
    baseline.py     each camera's own normal picture per mode, learned and persisted
    faults.py       measures + mode's baseline + thresholds -> faults (and notices)
    health.py       pure state machine: faults -> incidents -> camera.fault /
                    fault_changed / restored; acknowledge, snooze
    incidents.py    each camera's health state on disk, restored after a restart
    records.py      the monitor's record of a camera, and its view
    snapshots.py    last good and current frame per camera, bounded on disk
    routes.py       /api/v1/cameras...
    metrics.py      Prometheus metrics

Wiring::

    async with ProcessProber(config.concurrency) as prober:
        monitor = CameraMonitor(config, prober, sink)
        tg.create_task(monitor.run(), name="cameras")
        routes = camera_routes(monitor, allowed)

This package imports nothing on its own, so that a worker process sets the FFmpeg
environment before OpenCV is loaded.
"""
