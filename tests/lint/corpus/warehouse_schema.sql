-- A warehouse schema in the style of the employees sample: partitioned history, prefix
-- indexes, foreign keys into a shared reference database, indexes the foreign keys need.
USE corpus_wh;

CREATE TABLE wh_site (
    site_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,
    country_code CHAR(2) NOT NULL,
    name VARCHAR(100) NOT NULL,
    PRIMARY KEY (site_id),
    KEY idx_country (country_code),
    CONSTRAINT fk_site_country FOREIGN KEY (country_code) REFERENCES corpus_ref.country (code)
) ENGINE = InnoDB;

CREATE TABLE wh_item (
    item_id INT UNSIGNED NOT NULL AUTO_INCREMENT,
    site_id SMALLINT UNSIGNED NOT NULL,
    sku VARCHAR(40) NOT NULL,
    description TEXT NULL,
    weight FLOAT UNSIGNED NULL,
    PRIMARY KEY (item_id),
    KEY idx_site (site_id),
    KEY idx_site_sku (site_id, sku),
    KEY idx_desc (description(100)),
    CONSTRAINT fk_item_site FOREIGN KEY (site_id) REFERENCES wh_site (site_id)
) ENGINE = InnoDB;

CREATE TABLE wh_move_history (
    move_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    item_id INT UNSIGNED NOT NULL,
    moved_at DATETIME NOT NULL,
    qty INT NOT NULL,
    PRIMARY KEY (move_id, moved_at),
    KEY idx_item_time (item_id, moved_at)
) ENGINE = InnoDB
PARTITION BY RANGE (TO_DAYS(moved_at)) (
    PARTITION p2024 VALUES LESS THAN (TO_DAYS('2025-01-01')),
    PARTITION p_future VALUES LESS THAN MAXVALUE
);

CREATE SQL SECURITY INVOKER VIEW wh_item_weight AS
    SELECT i.item_id, i.sku, s.name AS site, i.weight
    FROM wh_item AS i JOIN wh_site AS s ON s.site_id = i.site_id;

SELECT corpus_wh.wh_item.sku FROM corpus_wh.wh_item WHERE corpus_wh.wh_item.item_id = 1;
