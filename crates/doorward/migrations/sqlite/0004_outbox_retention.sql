-- Pruning the outbox asks, per event, whether a delivery still needs it;
-- and deleting an event makes the foreign key look for deliveries of it.
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_seq);
