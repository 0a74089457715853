-- Integrity and the state machine, checked before a log row exists (docs/workflow.md).
--
-- * Always: the ticket must exist (what the FOREIGN KEY would give; ticket_logs is partitioned,
--   so it cannot have one). The ticket row is locked, so a concurrent DELETE cannot orphan the log.
-- * Unless @ticketdb_bulk_load = 1: the transition must be allowed from the ticket's current
--   status; the ticket row is locked FOR UPDATE first, so the check and the AFTER INSERT update
--   are atomic and the lock order is always service_tickets -> ticket_logs.
-- * Unless @ticketdb_bulk_load = 1: the action's time must be history in order: not before the
--   ticket's creation, not before its latest action (under the ticket's row lock, so two
--   concurrent actions cannot interleave), and not in the future beyond 120 s of clock skew.
--   A back-dated close would put closed_at before created_at and contradict the audit trail.
-- Rejections are SIGNAL SQLSTATE '45000' with "ticket <id>: <action> rejected: <reason>".
-- * Always: NEW.ticket_seq = the ticket's log_seq + 1, the ticket's own history order (read
--   from the row locked here; ticket_logs_after_insert stores it back — migration 0041).
-- No dynamic SQL here: it is not allowed in triggers (ERROR 1336).
CREATE TRIGGER ticket_logs_before_insert
BEFORE INSERT ON ticket_logs
FOR EACH ROW
BEGIN
    DECLARE v_status VARCHAR(16) DEFAULT NULL;
    DECLARE v_agent BIGINT UNSIGNED DEFAULT NULL;
    DECLARE v_created DATETIME DEFAULT NULL;
    DECLARE v_last DATETIME DEFAULT NULL;
    DECLARE v_reason VARCHAR(100) DEFAULT NULL;
    DECLARE v_msg VARCHAR(128) DEFAULT NULL;
    DECLARE v_seq INT UNSIGNED DEFAULT 0;

    IF @ticketdb_bulk_load <=> 1 THEN
        SELECT current_status, log_seq INTO v_status, v_seq
        FROM service_tickets WHERE id = NEW.ticket_id FOR UPDATE;
    ELSE
        SELECT current_status, assigned_agent_id, created_at, log_seq
        INTO v_status, v_agent, v_created, v_seq
        FROM service_tickets WHERE id = NEW.ticket_id FOR UPDATE;
    END IF;

    IF v_status IS NULL THEN
        SET v_reason = 'ticket does not exist';
    ELSEIF NOT (@ticketdb_bulk_load <=> 1) THEN
        CASE NEW.action_type
            WHEN 'assign' THEN
                IF v_status NOT IN ('pending', 'processing') THEN
                    SET v_reason = CONCAT('ticket is ', v_status);
                ELSEIF NEW.agent_id IS NULL THEN
                    SET v_reason = 'no agent given';
                END IF;
            WHEN 'reply' THEN
                IF v_status NOT IN ('pending', 'processing') THEN
                    SET v_reason = CONCAT('ticket is ', v_status);
                END IF;
            WHEN 'transfer' THEN
                IF v_status <> 'processing' THEN
                    SET v_reason = CONCAT('ticket is ', v_status);
                ELSEIF NEW.to_agent_id IS NULL THEN
                    SET v_reason = 'no target agent given';
                ELSEIF NOT (NEW.agent_id <=> v_agent) THEN
                    SET v_reason = CONCAT('ticket is assigned to agent ', IFNULL(v_agent, 'none'),
                                          ', not ', IFNULL(NEW.agent_id, 'none'));
                END IF;
            WHEN 'resolve' THEN
                IF v_status <> 'processing' THEN
                    SET v_reason = CONCAT('ticket is ', v_status);
                END IF;
            WHEN 'reopen' THEN
                IF v_status <> 'resolved' THEN
                    SET v_reason = CONCAT('ticket is ', v_status);
                END IF;
            WHEN 'close' THEN
                IF v_status = 'closed' THEN
                    SET v_reason = 'ticket is closed';
                END IF;
            WHEN 'escalate' THEN
                IF v_status NOT IN ('pending', 'processing') THEN
                    SET v_reason = CONCAT('ticket is ', v_status);
                ELSEIF NEW.new_priority IS NULL THEN
                    SET v_reason = 'no new priority given';
                END IF;
            ELSE
                SET v_reason = 'unknown action';
        END CASE;
    END IF;

    IF v_reason IS NULL AND v_status IS NOT NULL AND NOT (@ticketdb_bulk_load <=> 1) THEN
        SELECT MAX(action_time) INTO v_last FROM ticket_logs WHERE ticket_id = NEW.ticket_id;
        IF NEW.action_time < v_created THEN
            SET v_reason = 'action_time is before the ticket was created';
        ELSEIF NEW.action_time < v_last THEN
            SET v_reason = 'action_time is before the ticket''s previous action';
        ELSEIF NEW.action_time > NOW() + INTERVAL 120 SECOND THEN
            SET v_reason = 'action_time is in the future';
        END IF;
    END IF;

    IF v_reason IS NOT NULL THEN
        SET v_msg = LEFT(CONCAT('ticket ', NEW.ticket_id, ': ', NEW.action_type, ' rejected: ',
                                v_reason), 128);
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = v_msg;
    END IF;
    SET NEW.ticket_seq = v_seq + 1;
END
