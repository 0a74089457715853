-- Upgrade script 2.3 -> 2.4 as a vendor ships it: Windows line endings, a BOM, USE, source,
-- \G, a lower-case delimiter and a DELIMITER chunk holding two statements.
USE corpus_wh;

CREATE TABLE IF NOT EXISTS wh_note (
    note_id INT UNSIGNED NOT NULL AUTO_INCREMENT,
    body TEXT NOT NULL,
    kind VARCHAR(20) NOT NULL,
    PRIMARY KEY (note_id),
    KEY idx_body (body(200)),
    KEY idx_body_kind (body(10), kind)
) ENGINE = InnoDB;

source upgrade_part2.sql
\. upgrade_part3.sql

SELECT COUNT(*) AS notes FROM wh_note\G

DELIMITER //
DROP TRIGGER IF EXISTS wh_note_bi; CREATE TRIGGER wh_note_bi BEFORE INSERT ON wh_note FOR EACH ROW
BEGIN
    SET NEW.kind = LOWER(NEW.kind);
    INSERT INTO wh_note_kind (kind) VALUES (NEW.kind) ON DUPLICATE KEY UPDATE kind = kind;
END //
delimiter ;

SELECT kind, COUNT(*) FROM wh_note GROUP BY kind;
