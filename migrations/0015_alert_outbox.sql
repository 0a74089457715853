-- depends: 0010_service_tickets_closed_index
-- alert_outbox: deadline-breach alerts waiting to be pushed to supervisors (docs/operations.md).
--
-- The event alert_enqueue_event (via procedure alert_enqueue) inserts one row per ticket whose
-- deadline is about to pass; UNIQUE (ticket_id, deadline) makes that idempotent: a re-run adds
-- nothing, and only a moved deadline (escalation, transfer with a new priority) gives a new row.
-- The trigger alert_tickets_after_update marks pending rows 'cleared' when the ticket is
-- resolved/closed or its deadline moves, in the same transaction as the ticket change.
--
-- Delivery (`ticketdb alerts run`) is at-least-once with a lease: a worker claims rows with
-- SELECT … FOR UPDATE SKIP LOCKED, stamps lease_owner/lease_until and commits, delivers outside
-- any transaction, then marks each row 'sent'. A killed worker's lease expires and another worker
-- re-delivers with the same idempotency key (id + deadline).
CREATE TABLE alert_outbox (
    id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    ticket_id         BIGINT UNSIGNED NOT NULL,
    deadline          DATETIME        NOT NULL,
    customer_id       BIGINT UNSIGNED NOT NULL,
    priority          ENUM('urgent', 'high', 'medium', 'low') NOT NULL,
    status            ENUM('pending', 'sent', 'cleared', 'failed') NOT NULL DEFAULT 'pending',
    attempts          INT UNSIGNED    NOT NULL DEFAULT 0,
    next_attempt_at   DATETIME(6)     NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    lease_owner       VARCHAR(64)     NULL,
    lease_until       DATETIME(6)     NULL,
    created_at        DATETIME        NOT NULL DEFAULT CURRENT_TIMESTAMP,
    sent_at           DATETIME(6)     NULL,
    last_error        VARCHAR(500)    NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_alert_ticket_deadline (ticket_id, deadline),
    -- the worker's claim scan: status = 'pending' AND next_attempt_at <= NOW(6)
    KEY idx_alert_status_next (status, next_attempt_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
