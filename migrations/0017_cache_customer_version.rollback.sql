DELETE FROM cache_customer_version WHERE customer_id = 0;
DROP TABLE cache_customer_version;
