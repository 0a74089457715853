-- report_run(p_name, p_args): run the report statement p_name and return its rows. The SQL is the
-- row of ticketdb_report_statements that `migrate up` loads from queries/<p_name>.sql (a file
-- marked `-- runner: report_run`), with each :name placeholder turned into `?`; p_args is a JSON
-- object of the query's parameters by name ({"ticket_id": 42}), bound to the `?`s in the order
-- the row records (a name used three times is bound three times). Numbers bind as integers
-- (LIMIT needs one), null as NULL, strings as strings (dates as 'YYYY-MM-DD HH:MM:SS').
-- Why: the reporter account holds EXECUTE on this procedure and nothing else (no SELECT on any
-- table), so it reads every report but cannot add FOR UPDATE / LOCK IN SHARE MODE to one and
-- stall the workflow. The report runs in a REPEATABLE READ, READ ONLY transaction of its own
-- (consistent reads: no row locks even for a SERIALIZABLE caller), committed before the CALL
-- returns, so no row or metadata lock outlives it. Call it outside a transaction: like START
-- TRANSACTION, it commits an open one first.
-- A name with no row (not loaded yet: run `ticketdb migrate up`), a missing or unknown
-- parameter, or a value that is not a JSON scalar is SIGNAL 45000 before anything runs.
-- At most 8 `?`s per statement (the EXECUTE … USING list is fixed text); `migrate up` refuses
-- to load a report with more.
CREATE PROCEDURE report_run(
    IN p_name VARCHAR(64),
    IN p_args TEXT
)
READS SQL DATA
SQL SECURITY DEFINER
COMMENT 'run one report of ticketdb_report_statements by name; JSON arguments by name'
BEGIN
    DECLARE v_statement MEDIUMTEXT DEFAULT NULL;
    DECLARE v_params VARCHAR(1000);
    DECLARE v_positions VARCHAR(2000);
    DECLARE v_args TEXT DEFAULT COALESCE(p_args, '{}');
    DECLARE v_count INT;
    DECLARE v_i INT DEFAULT 0;
    DECLARE v_param VARCHAR(64);
    DECLARE v_value TEXT;
    DECLARE v_type VARCHAR(32);
    DECLARE v_prepared TINYINT DEFAULT 0;
    DECLARE v_message VARCHAR(128);
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_statement = NULL;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        IF v_prepared = 1 THEN
            DEALLOCATE PREPARE ticketdb_report;
        END IF;
        RESIGNAL;
    END;

    COMMIT;
    SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;
    START TRANSACTION READ ONLY;

    SELECT sql_text, params, positions INTO v_statement, v_params, v_positions
    FROM ticketdb_report_statements
    WHERE name = p_name;
    IF v_statement IS NULL THEN
        SET v_message = LEFT(CONCAT('no report statement ', COALESCE(p_name, 'NULL'),
                                    ' (run `ticketdb migrate up`)'), 128);
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = v_message;
    END IF;
    -- JSON_TYPE of invalid text is an error on MySQL: validity first, on its own
    IF JSON_VALID(v_args) = 0 THEN
        SET v_args = '[]';
    END IF;
    IF JSON_TYPE(v_args) <> 'OBJECT' THEN
        SET v_message = LEFT(CONCAT('report ', p_name, ': the arguments must be a JSON object'), 128);
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = v_message;
    END IF;

    -- every parameter once, nothing else
    SET v_count = JSON_LENGTH(v_params);
    WHILE v_i < v_count DO
        SET v_param = JSON_UNQUOTE(JSON_EXTRACT(v_params, CONCAT('$[', v_i, ']')));
        IF JSON_CONTAINS_PATH(v_args, 'one', CONCAT('$."', v_param, '"')) = 0 THEN
            SET v_message = LEFT(CONCAT('report ', p_name, ': missing parameter ', v_param), 128);
            SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = v_message;
        END IF;
        SET v_i = v_i + 1;
    END WHILE;
    IF JSON_LENGTH(v_args) <> v_count THEN
        SET v_message = LEFT(CONCAT('report ', p_name, ': unknown parameter(s) in ',
                                    JSON_KEYS(v_args), ' (takes ', v_params, ')'), 128);
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = v_message;
    END IF;

    -- one typed user variable per `?`, in the recorded order
    SET v_count = JSON_LENGTH(v_positions);
    IF v_count > 8 THEN
        SET v_message = LEFT(CONCAT('report ', p_name, ' has ', v_count, ' placeholders (at most 8)'), 128);
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = v_message;
    END IF;
    SET v_i = 0;
    WHILE v_i < v_count DO
        SET v_param = JSON_UNQUOTE(JSON_EXTRACT(v_positions, CONCAT('$[', v_i, ']')));
        SET v_value = JSON_EXTRACT(v_args, CONCAT('$."', v_param, '"'));
        SET v_type = JSON_TYPE(v_value);
        IF v_type = 'INTEGER' THEN
            SET @ticketdb_report_value = CAST(JSON_UNQUOTE(v_value) AS SIGNED);
        ELSEIF v_type = 'UNSIGNED INTEGER' THEN
            SET @ticketdb_report_value = CAST(JSON_UNQUOTE(v_value) AS UNSIGNED);
        ELSEIF v_type = 'BOOLEAN' THEN
            SET @ticketdb_report_value = IF(JSON_UNQUOTE(v_value) = 'true', 1, 0);
        ELSEIF v_type = 'NULL' THEN
            SET @ticketdb_report_value = NULL;
        ELSEIF v_type IN ('DOUBLE', 'DECIMAL') THEN
            SET @ticketdb_report_value = JSON_UNQUOTE(v_value) + 0;
        ELSEIF v_type = 'STRING' THEN
            SET @ticketdb_report_value = JSON_UNQUOTE(v_value);
        ELSE
            SET v_message = LEFT(CONCAT('report ', p_name, ': parameter ', v_param,
                                        ' must be a JSON number, string or null'), 128);
            SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = v_message;
        END IF;
        CASE v_i
            WHEN 0 THEN SET @ticketdb_report_1 = @ticketdb_report_value;
            WHEN 1 THEN SET @ticketdb_report_2 = @ticketdb_report_value;
            WHEN 2 THEN SET @ticketdb_report_3 = @ticketdb_report_value;
            WHEN 3 THEN SET @ticketdb_report_4 = @ticketdb_report_value;
            WHEN 4 THEN SET @ticketdb_report_5 = @ticketdb_report_value;
            WHEN 5 THEN SET @ticketdb_report_6 = @ticketdb_report_value;
            WHEN 6 THEN SET @ticketdb_report_7 = @ticketdb_report_value;
            ELSE SET @ticketdb_report_8 = @ticketdb_report_value;
        END CASE;
        SET v_i = v_i + 1;
    END WHILE;

    SET @ticketdb_report_sql = v_statement;
    PREPARE ticketdb_report FROM @ticketdb_report_sql;
    SET v_prepared = 1;
    CASE v_count
        WHEN 0 THEN EXECUTE ticketdb_report;
        WHEN 1 THEN EXECUTE ticketdb_report USING @ticketdb_report_1;
        WHEN 2 THEN EXECUTE ticketdb_report USING @ticketdb_report_1, @ticketdb_report_2;
        WHEN 3 THEN EXECUTE ticketdb_report USING @ticketdb_report_1, @ticketdb_report_2,
            @ticketdb_report_3;
        WHEN 4 THEN EXECUTE ticketdb_report USING @ticketdb_report_1, @ticketdb_report_2,
            @ticketdb_report_3, @ticketdb_report_4;
        WHEN 5 THEN EXECUTE ticketdb_report USING @ticketdb_report_1, @ticketdb_report_2,
            @ticketdb_report_3, @ticketdb_report_4, @ticketdb_report_5;
        WHEN 6 THEN EXECUTE ticketdb_report USING @ticketdb_report_1, @ticketdb_report_2,
            @ticketdb_report_3, @ticketdb_report_4, @ticketdb_report_5, @ticketdb_report_6;
        WHEN 7 THEN EXECUTE ticketdb_report USING @ticketdb_report_1, @ticketdb_report_2,
            @ticketdb_report_3, @ticketdb_report_4, @ticketdb_report_5, @ticketdb_report_6,
            @ticketdb_report_7;
        ELSE EXECUTE ticketdb_report USING @ticketdb_report_1, @ticketdb_report_2,
            @ticketdb_report_3, @ticketdb_report_4, @ticketdb_report_5, @ticketdb_report_6,
            @ticketdb_report_7, @ticketdb_report_8;
    END CASE;
    COMMIT;
    DEALLOCATE PREPARE ticketdb_report;
END
