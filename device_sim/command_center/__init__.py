"""Simulated district command center: verifies and records the gateway's webhooks, fails on
demand, and accepts and resolves alarms through the gateway's API."""

from device_sim.command_center.center import CommandCenter
from device_sim.command_center.modes import Mode, ModeSetting
from device_sim.command_center.options import CommandCenterOptions
from device_sim.command_center.records import Received
from device_sim.command_center.responder import ResponderOptions

__all__ = [
    "CommandCenter",
    "CommandCenterOptions",
    "Mode",
    "ModeSetting",
    "Received",
    "ResponderOptions",
]
