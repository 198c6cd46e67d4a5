"""`dw.metrics_text()`: Prometheus text of this instance's counters,
latency histograms and gauges, on both clients."""

from __future__ import annotations

from conftest import PASSWORD, Client, Opener, resolve


async def test_metrics_text_counts_a_registration(client: Client) -> None:
    await resolve(client.register_user("john", "john@example.com", PASSWORD))
    text = await resolve(client.metrics_text())
    assert isinstance(text, str)
    lines = text.splitlines()
    assert "doorward_registrations_total 1" in lines
    assert any(line.startswith("doorward_active_sessions") for line in lines)
    assert any(
        line.startswith('doorward_operation_duration_seconds_bucket{operation="auth.register_user"')
        for line in lines
    )
    assert "john@example.com" not in text


async def test_metrics_text_is_per_instance(make: Opener) -> None:
    first, second = make(), make()
    await resolve(first.register_user("john", "john@example.com", PASSWORD))
    assert "doorward_registrations_total 1" in (await resolve(first.metrics_text())).splitlines()
    assert (
        "doorward_registrations_total 1" not in (await resolve(second.metrics_text())).splitlines()
    )
