ALTER TABLE cache_customer_version
    DROP KEY idx_cache_version_changed,
    DROP COLUMN changed_at;
