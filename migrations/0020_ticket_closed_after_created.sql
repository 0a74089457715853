-- depends: 0017_cache_customer_version
-- A ticket cannot be closed before it was created, whatever path wrote it (live workflow, bulk
-- load, an admin's UPDATE): the live path already refuses a back-dated action
-- (ticket_logs_before_insert), this makes the rule hold for every account and every loader.
ALTER TABLE service_tickets
    ADD CONSTRAINT chk_ticket_closed_after_created CHECK (closed_at IS NULL OR closed_at >= created_at);
