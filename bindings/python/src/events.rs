//! `dw.events`: subscribing to domain events, reading the outbox, and the
//! webhook deliveries behind it.

use pyo3::prelude::*;

use crate::outbox::{DeliveryRecord, EventPage};
use crate::runtime::{awaitable, block_on};
use crate::subscription::{PyHandler, Subscription, not_in_handler};
use crate::types::{Done, each};

sub_api!(
    /// Domain events: `dw.events`.
    Events,
    AsyncEvents
);

/// Event type names as the core's types (all when none are given).
fn types(names: Option<Vec<String>>) -> doorward::Result<Vec<doorward::EventType>> {
    doorward::events::parse_types(&names.unwrap_or_default())
}

twins! {
    Events, AsyncEvents;

    /// Call `handler(event)` with every event of `types` (all when None)
    /// committed from now on, in commit order, on a background thread. An
    /// exception is logged (logger `doorward.events`) and the event is
    /// delivered again after a backoff, up to `events_max_attempts` times.
    /// With a `name` the subscriber is durable: events committed while the
    /// process was away are delivered when it subscribes again.
    #[pyo3(signature = (handler, types = None, name = None))]
    fn subscribe(
        dw,
        handler: PyHandler,
        types: Option<Vec<String>>,
        name: Option<String>,
    ) -> Subscription {
        let types = self::types(types)?;
        dw.events().subscribe_handler(name.as_deref(), &types, handler.0).await
    }

    /// Events in commit order after `cursor` (from the start without one),
    /// `limit` (1 to 1000; None for the default, 50) at a time.
    #[pyo3(signature = (cursor = None, limit = None))]
    fn list(dw, cursor: Option<String>, limit: Option<i64>) -> EventPage {
        dw.events()
            .list(cursor.as_deref(), crate::types::limit(limit))
            .await
            .map(EventPage::from)
    }

    /// Webhook deliveries in `status` (`pending`, `delivered`, `dead`; all
    /// when None), oldest first, after the delivery id `cursor`, `limit`
    /// (1 to 1000; None for the default, 50) at a time.
    #[pyo3(signature = (status = None, cursor = None, limit = None))]
    fn deliveries(
        dw,
        status: Option<String>,
        cursor: Option<String>,
        limit: Option<i64>,
    ) -> Vec<DeliveryRecord> {
        let status = status
            .as_deref()
            .map(str::parse::<doorward::store::DeliveryStatus>)
            .transpose()?;
        dw.events()
            .deliveries(status, cursor.as_deref(), crate::types::limit(limit))
            .await
            .map(each)
    }

    /// Dead-lettered webhook deliveries: they ran out of attempts.
    fn dead(dw) -> Vec<DeliveryRecord> {
        dw.events().dead().await.map(each)
    }

    /// Queue a dead delivery again, due now (`NotFoundError` unless it is
    /// dead).
    fn replay(dw, delivery_id: u64) -> Done {
        dw.events().replay(delivery_id).await
    }
}

#[pymethods]
impl Events {
    /// Run the dispatcher until everything committed so far has reached
    /// every consumer that can take it now (deliveries waiting for a retry
    /// stay queued): for tests, scripts and shutdown. Not from a handler.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        not_in_handler("events.flush()")?;
        let dw = self.handle.get(py)?;
        block_on(py, async move { dw.events().flush().await })
    }

    /// Iterate over events of `types` as they are committed, from now on:
    /// `for event in dw.events.stream(timeout=5): ...`. With a `timeout`
    /// (seconds), iteration ends when no event comes for that long; use it
    /// as a context manager, or `close()` it, to stop the subscription.
    #[pyo3(signature = (types = None, name = None, timeout = None))]
    fn stream<'py>(
        slf: &Bound<'py, Self>,
        types: Option<Vec<String>>,
        name: Option<String>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("doorward._streams")?
            .getattr("EventStream")?
            .call1((slf, types, name, timeout))
    }
}

#[pymethods]
impl AsyncEvents {
    /// Run the dispatcher until everything committed so far has reached
    /// every consumer that can take it now: for tests and shutdown.
    fn flush<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        not_in_handler("events.flush()")?;
        let dw = self.handle.get(py)?;
        awaitable::<Done, _>(py, async move { dw.events().flush().await.map(Done::from) })
    }

    /// Events of `types` as an async iterator, from when the `async with`
    /// block is entered until it is left:
    /// `async with dw.events.stream(types=["UserRegistered"]) as events:`
    /// `async for event in events: ...`.
    #[pyo3(signature = (types = None, name = None))]
    fn stream<'py>(
        slf: &Bound<'py, Self>,
        types: Option<Vec<String>>,
        name: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("doorward._streams")?
            .getattr("AsyncEventStream")?
            .call1((slf, types, name))
    }
}
