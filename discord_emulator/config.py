"""Tunable limits and behaviour of the emulator."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class EmulatorConfig:
    """Limits default to the numbers Discord uses; tests tighten or disable them."""

    rate_limits: bool = True
    global_limit: int = 50
    global_window: float = 1.0
    route_limit: int = 50
    route_window: float = 1.0
    message_limit: int = 5
    message_window: float = 5.0
    heartbeat_interval_ms: int = 41250
    # Discord's ACK comes back after a network round trip. Answering over loopback within
    # microseconds races discord.py 2.7's keep-alive thread, which notes its send time only
    # after the send completes: the ACK is then measured from the previous heartbeat, so the
    # client reports a whole interval of latency and warns "Can't keep up". 0 answers at once.
    heartbeat_ack_delay: float = 0.03
    honour_zlib_stream: bool = False
    replay_buffer: int = 200_000
    resume_window: float = 300.0
    journal_limit: int | None = None
    max_content_length: int = 2000
    bulk_delete_max_age_days: int = 14
    attachment_size_limit: int = 10 * 1024 * 1024
    # Discord drops an interaction not answered within 3 s; None keeps slow tests working.
    interaction_ack_timeout: float | None = None

    @classmethod
    def unlimited(cls, **overrides: object) -> EmulatorConfig:
        config = cls(rate_limits=False)
        for key, value in overrides.items():
            setattr(config, key, value)
        return config
