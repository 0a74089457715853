-- A routine library in the style of common_schema / sys: helpers installed before the tables
-- they use, temporary tables made at run time, dynamic SQL, CALLs of procedures defined later.

delimiter $$

DROP PROCEDURE IF EXISTS lib_log $$
CREATE PROCEDURE lib_log(IN p_msg VARCHAR(255))
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
BEGIN
    INSERT INTO lib_messages (msg, logged_at) VALUES (p_msg, NOW());
END $$

DROP PROCEDURE IF EXISTS lib_snapshot_sizes $$
CREATE PROCEDURE lib_snapshot_sizes()
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
BEGIN
    DROP TEMPORARY TABLE IF EXISTS tmp_sizes;
    CREATE TEMPORARY TABLE tmp_sizes (
        table_name VARCHAR(64) NOT NULL,
        total_bytes BIGINT UNSIGNED NOT NULL,
        PRIMARY KEY (table_name)
    ) ENGINE = MEMORY;
    INSERT INTO tmp_sizes (table_name, total_bytes)
        SELECT t.table_name, COALESCE(t.data_length + t.index_length, 0)
        FROM information_schema.tables AS t
        WHERE t.table_schema = DATABASE();
    INSERT INTO lib_size_history (table_name, total_bytes, taken_at)
        SELECT table_name, total_bytes, NOW() FROM tmp_sizes;
    CALL lib_log(CONCAT('sizes: ', (SELECT COUNT(*) FROM tmp_sizes)));
    DROP TEMPORARY TABLE tmp_sizes;
END $$

DROP PROCEDURE IF EXISTS lib_make_scratch $$
CREATE PROCEDURE lib_make_scratch(IN p_days INT)
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
BEGIN
    SET @ddl = 'CREATE TABLE IF NOT EXISTS lib_scratch (id INT NOT NULL PRIMARY KEY, note VARCHAR(100) NULL)';
    PREPARE stmt FROM @ddl;
    EXECUTE stmt;
    DEALLOCATE PREPARE stmt;
    DELETE FROM lib_scratch WHERE id < p_days;
    INSERT INTO lib_scratch (id, note) VALUES (p_days, 'made');
    CALL lib_purge_history(p_days);
END $$

DROP PROCEDURE IF EXISTS lib_purge_history $$
CREATE PROCEDURE lib_purge_history(IN p_days INT)
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
BEGIN
    DECLARE v_done INT DEFAULT 0;
    purge_loop: REPEAT
        DELETE FROM lib_size_history
        WHERE taken_at < NOW() - INTERVAL p_days DAY
        ORDER BY taken_at
        LIMIT 1000;
        SET v_done = ROW_COUNT() < 1000;
    UNTIL v_done END REPEAT purge_loop;
END $$

DROP FUNCTION IF EXISTS lib_human_bytes $$
CREATE FUNCTION lib_human_bytes(p_bytes BIGINT UNSIGNED) RETURNS VARCHAR(20)
    DETERMINISTIC NO SQL
    SQL SECURITY INVOKER
BEGIN
    IF p_bytes >= 1073741824 THEN
        RETURN CONCAT(ROUND(p_bytes / 1073741824, 1), ' GiB');
    ELSEIF p_bytes >= 1048576 THEN
        RETURN CONCAT(ROUND(p_bytes / 1048576, 1), ' MiB');
    END IF;
    RETURN CONCAT(p_bytes, ' B');
END $$

DROP EVENT IF EXISTS lib_nightly $$
CREATE EVENT lib_nightly ON SCHEDULE EVERY 1 DAY DISABLE
DO BEGIN
    CALL lib_snapshot_sizes();
    UPDATE lib_size_history SET total_bytes = total_bytes ORDER BY taken_at DESC LIMIT 1;
END $$

DELIMITER ;

CREATE TABLE IF NOT EXISTS lib_messages (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    msg VARCHAR(255) NOT NULL,
    logged_at DATETIME NOT NULL
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS lib_size_history (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    table_name VARCHAR(64) NOT NULL,
    total_bytes BIGINT UNSIGNED NOT NULL,
    taken_at DATETIME NOT NULL,
    KEY idx_taken (taken_at)
) ENGINE = InnoDB;

CREATE DEFINER = CURRENT_USER SQL SECURITY INVOKER VIEW lib_sizes_human AS
    SELECT table_name, lib_human_bytes(total_bytes) AS size, taken_at FROM lib_size_history;
