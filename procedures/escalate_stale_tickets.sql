-- escalate_stale_tickets(OUT p_escalated): apply every enabled row of escalation_rules, e.g.
-- "pending, unassigned 'medium' tickets created more than 24 h ago become 'high'".
-- Each escalation is one 'escalate' log row (agent NULL, new_priority = rule.to_priority); its
-- AFTER INSERT trigger changes the priority and restarts the SLA clock (sla_started_at = now),
-- so an escalated ticket gets a fresh deadline instead of being instantly overdue.
--
-- Set-based and chunked: each transaction locks at most `escalation_batch_size` tickets
-- (ticketdb_settings, default 1000) through the (current_status, priority, created_at) index,
-- logs them, commits, and moves on. Idempotent: an escalated ticket leaves the rule's priority,
-- so a second run finds nothing. p_escalated = number of tickets escalated by this call.
--
-- A chunk that hits a deadlock (1213) or lock wait timeout (1205) is rolled back and retried
-- (up to 5 attempts, short back-off); then the call fails with 1213, earlier chunks committed.
-- Commits per chunk: do not CALL it inside an open transaction. The chosen ids go through a
-- temporary table because INSERT INTO ticket_logs … SELECT … FROM service_tickets would fail with
-- ERROR 1442 (the trigger updates service_tickets, which that statement reads).
-- SQL SECURITY DEFINER: the event and an ops role need EXECUTE only.
CREATE PROCEDURE escalate_stale_tickets(OUT p_escalated INT UNSIGNED)
MODIFIES SQL DATA
SQL SECURITY DEFINER
COMMENT 'escalate stale pending unassigned tickets per escalation_rules; OUT = count'
BEGIN
    DECLARE v_rule INT UNSIGNED DEFAULT 0;
    DECLARE v_from VARCHAR(16);
    DECLARE v_to VARCHAR(16);
    DECLARE v_hours INT UNSIGNED;
    DECLARE v_batch INT UNSIGNED;
    DECLARE v_now DATETIME;
    DECLARE v_cutoff DATETIME;
    DECLARE v_from_created DATETIME;
    DECLARE v_next_from DATETIME;
    DECLARE v_n INT UNSIGNED;
    DECLARE v_failed TINYINT DEFAULT 0;
    DECLARE v_attempt INT DEFAULT 0;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        DROP TEMPORARY TABLE IF EXISTS tmp_escalation_batch;
        RESIGNAL;
    END;

    SET p_escalated = 0;
    SET @ticketdb_bulk_load = NULL;
    SELECT IFNULL(MAX(CAST(value AS UNSIGNED)), 1000) INTO v_batch
    FROM ticketdb_settings WHERE name = 'escalation_batch_size';
    IF v_batch < 1 THEN
        SET v_batch = 1000;
    END IF;

    DROP TEMPORARY TABLE IF EXISTS tmp_escalation_batch;
    CREATE TEMPORARY TABLE tmp_escalation_batch (
        ticket_id  BIGINT UNSIGNED NOT NULL PRIMARY KEY,
        created_at DATETIME NOT NULL
    ) ENGINE = InnoDB;

    rules: LOOP
        SET v_rule = (SELECT MIN(rule_id) FROM escalation_rules
                      WHERE enabled = 1 AND rule_id > v_rule);
        IF v_rule IS NULL THEN
            LEAVE rules;
        END IF;
        SELECT from_priority, to_priority, unassigned_hours INTO v_from, v_to, v_hours
        FROM escalation_rules WHERE rule_id = v_rule;
        SET v_now = NOW();
        SET v_cutoff = v_now - INTERVAL v_hours HOUR;
        SET v_from_created = '1000-01-01 00:00:00';

        batches: LOOP
            SET v_n = 0;
            SET v_failed = 0;
            chunk: BEGIN
                -- A deadlock / lock wait timeout (e.g. with a concurrent ticket_assign) rolls
                -- back this chunk only; it is retried below, earlier chunks stay committed.
                DECLARE EXIT HANDLER FOR 1213, 1205
                BEGIN
                    ROLLBACK;
                    SET v_failed = 1;
                END;
                START TRANSACTION;
                INSERT INTO tmp_escalation_batch (ticket_id, created_at)
                -- scan:start (tests/test_escalation.py EXPLAINs this SELECT)
                SELECT id, created_at
                FROM service_tickets FORCE INDEX (idx_status_priority_created)
                WHERE current_status = 'pending'
                  AND priority = v_from
                  AND created_at >= v_from_created
                  AND created_at < v_cutoff
                  AND assigned_agent_id IS NULL
                ORDER BY created_at
                LIMIT v_batch
                -- scan:end
                FOR UPDATE;
                SET v_n = ROW_COUNT();
                IF v_n > 0 THEN
                    SELECT MAX(created_at) INTO v_next_from FROM tmp_escalation_batch;
                    INSERT INTO ticket_logs (ticket_id, agent_id, action_type, action_time,
                                             note, new_priority)
                    SELECT ticket_id, NULL, 'escalate', v_now,
                           CONCAT('rule ', v_rule, ': ', v_from, ' -> ', v_to, ' after ',
                                  v_hours, ' h unassigned'),
                           v_to
                    FROM tmp_escalation_batch;
                END IF;
                COMMIT;
            END chunk;
            TRUNCATE TABLE tmp_escalation_batch;  -- outside any transaction: commits nothing
            IF v_failed = 1 THEN
                CALL conflict_backoff(
                    'escalate_stale_tickets: chunk still deadlocked or timed out after 5 attempts',
                    v_attempt);
                ITERATE batches;
            END IF;
            SET v_attempt = 0;
            SET p_escalated = p_escalated + v_n;
            IF v_n < v_batch THEN
                LEAVE batches;
            END IF;
            SET v_from_created = v_next_from;
        END LOOP batches;
    END LOOP rules;

    DROP TEMPORARY TABLE IF EXISTS tmp_escalation_batch;
END
