-- A helper library in the style of the sys schema: its own database named in qualified
-- names, configuration read through functions, cursors, handlers, GET DIAGNOSTICS,
-- RESIGNAL, prepared statements with USING, recursive CTEs, window functions, JSON_TABLE,
-- CHECK constraints, FULLTEXT, events with STARTS/ON COMPLETION.
CREATE DATABASE IF NOT EXISTS corpus_sys;
USE corpus_sys;

CREATE TABLE IF NOT EXISTS corpus_sys.sys_config (
    variable VARCHAR(128) NOT NULL PRIMARY KEY,
    value VARCHAR(128) NULL,
    set_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    set_by VARCHAR(128) NULL
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS corpus_sys.task_tree (
    id INT UNSIGNED NOT NULL PRIMARY KEY,
    parent_id INT UNSIGNED NULL,
    title VARCHAR(200) NOT NULL,
    body TEXT NULL,
    payload JSON NULL,
    weight INT NOT NULL DEFAULT 1,
    CONSTRAINT chk_weight CHECK (weight BETWEEN 0 AND 100),
    KEY idx_parent (parent_id),
    FULLTEXT KEY ft_title_body (title, body)
) ENGINE = InnoDB;

INSERT INTO corpus_sys.sys_config (variable, value)
VALUES ('statement_truncate_len', '64'), ('diagnostics.include_raw', 'OFF')
ON DUPLICATE KEY UPDATE value = VALUES(value);

DELIMITER $$

DROP FUNCTION IF EXISTS sys_get_config $$
CREATE FUNCTION sys_get_config(in_variable VARCHAR(128), in_default VARCHAR(128))
    RETURNS VARCHAR(128) CHARSET utf8mb4
    NOT DETERMINISTIC
    READS SQL DATA
    SQL SECURITY INVOKER
BEGIN
    DECLARE v_value VARCHAR(128) DEFAULT NULL;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_value = NULL;
    SELECT value INTO v_value FROM corpus_sys.sys_config WHERE variable = in_variable;
    RETURN IFNULL(v_value, in_default);
END $$

DROP PROCEDURE IF EXISTS task_subtree_weights $$
CREATE PROCEDURE task_subtree_weights(IN in_root INT UNSIGNED)
    READS SQL DATA
    SQL SECURITY INVOKER
BEGIN
    WITH RECURSIVE subtree (id, depth) AS (
        SELECT id, 0 FROM task_tree WHERE id = in_root
        UNION ALL
        SELECT t.id, s.depth + 1 FROM task_tree AS t JOIN subtree AS s ON t.parent_id = s.id
    )
    SELECT s.depth, t.title, t.weight,
           SUM(t.weight) OVER (PARTITION BY s.depth ORDER BY t.id) AS running_weight,
           ROW_NUMBER() OVER (ORDER BY s.depth, t.id) AS rn
    FROM subtree AS s JOIN task_tree AS t ON t.id = s.id
    ORDER BY s.depth, t.id;
END $$

DROP PROCEDURE IF EXISTS task_tags $$
CREATE PROCEDURE task_tags(IN in_id INT UNSIGNED)
    READS SQL DATA
    SQL SECURITY INVOKER
BEGIN
    SELECT t.id, j.tag
    FROM task_tree AS t,
         JSON_TABLE(t.payload, '$.tags[*]' COLUMNS (tag VARCHAR(40) PATH '$')) AS j
    WHERE t.id = in_id;
END $$

DROP PROCEDURE IF EXISTS task_rebalance $$
CREATE PROCEDURE task_rebalance(IN in_max INT, OUT out_changed INT)
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
BEGIN
    DECLARE v_done BOOLEAN DEFAULT FALSE;
    DECLARE v_id INT UNSIGNED;
    DECLARE v_weight INT;
    DECLARE v_errno INT;
    DECLARE v_msg TEXT;
    DECLARE cur_heavy CURSOR FOR
        SELECT id, weight FROM task_tree WHERE weight > in_max ORDER BY weight DESC;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_done = TRUE;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        GET DIAGNOSTICS CONDITION 1 v_errno = MYSQL_ERRNO, v_msg = MESSAGE_TEXT;
        ROLLBACK;
        RESIGNAL SET MESSAGE_TEXT = 'task_rebalance failed';
    END;
    SET out_changed = 0;
    START TRANSACTION;
    OPEN cur_heavy;
    rebalance: REPEAT
        FETCH cur_heavy INTO v_id, v_weight;
        IF NOT v_done THEN
            CASE
                WHEN v_weight > in_max * 2 THEN
                    UPDATE task_tree SET weight = in_max WHERE id = v_id;
                ELSE
                    UPDATE task_tree SET weight = weight - 1 WHERE id = v_id;
            END CASE;
            SET out_changed = out_changed + ROW_COUNT();
        END IF;
    UNTIL v_done END REPEAT rebalance;
    CLOSE cur_heavy;
    COMMIT;
END $$

DROP PROCEDURE IF EXISTS sys_table_rows $$
CREATE PROCEDURE sys_table_rows(IN in_table VARCHAR(64))
    READS SQL DATA
    SQL SECURITY INVOKER
BEGIN
    SET @sys_table_rows_sql = CONCAT('SELECT COUNT(*) AS n FROM corpus_sys.', in_table,
                                     ' WHERE 1 = ?');
    SET @sys_one = 1;
    PREPARE stmt FROM @sys_table_rows_sql;
    EXECUTE stmt USING @sys_one;
    DEALLOCATE PREPARE stmt;
END $$

DROP EVENT IF EXISTS sys_config_touch $$
CREATE EVENT sys_config_touch
    ON SCHEDULE EVERY 1 HOUR STARTS CURRENT_TIMESTAMP + INTERVAL 1 HOUR
    ON COMPLETION PRESERVE DISABLE
    COMMENT 'keeps set_time fresh'
DO UPDATE corpus_sys.sys_config SET set_by = CURRENT_USER() WHERE variable LIKE 'diagnostics.%' $$

DELIMITER ;

SELECT title, MATCH (title, body) AGAINST ('rebalance' IN NATURAL LANGUAGE MODE) AS score
FROM task_tree
WHERE MATCH (title, body) AGAINST ('rebalance' IN NATURAL LANGUAGE MODE)
ORDER BY score DESC
LIMIT 10;
