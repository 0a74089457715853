-- depends: 0015_alert_outbox
-- customers: one row per customer known to have tickets, with a VIP tier.
-- service_tickets.customer_id predates this table and has no FOREIGN KEY to it on purpose:
-- tickets can arrive for a customer before the nightly/CLI refresh has seen them. The tier is
-- recomputed by procedure vip_refresh(threshold) (`ticketdb vip refresh --threshold N`):
-- customers with at least N tickets are 'vip'. Only VIP customers' open tickets are cached in Redis.
CREATE TABLE customers (
    id              BIGINT UNSIGNED NOT NULL,
    vip_tier        ENUM('standard', 'vip') NOT NULL DEFAULT 'standard',
    ticket_count    INT UNSIGNED    NOT NULL DEFAULT 0,
    tier_updated_at DATETIME        NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (id),
    KEY idx_customers_tier (vip_tier)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
