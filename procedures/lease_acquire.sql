-- lease_acquire(p_name, p_ttl_seconds, p_wait_seconds, OUT p_won): take the cluster-wide lease
-- p_name for p_ttl_seconds, waiting up to p_wait_seconds (polling every 0.2 s); p_won = 1 when
-- won. The winning UPDATE commits on its own (autocommit), so it is certified by every Galera
-- node before anything else the caller does: call it outside a transaction. A certification
-- failure (1213) or lock wait timeout (1205) on the lease row means another node was faster:
-- it is retried like a busy lease. An expired lease (holder died) is taken over, and so is one
-- held for longer than p_ttl_seconds already (a job whose schedule was shortened).
CREATE PROCEDURE lease_acquire(
    IN p_name VARCHAR(190),
    IN p_ttl_seconds INT,
    IN p_wait_seconds INT,
    OUT p_won TINYINT
)
MODIFIES SQL DATA
SQL SECURITY DEFINER
COMMENT 'take a ticketdb_leases row (cluster-wide lock); OUT 1 = won'
BEGIN
    DECLARE v_owner VARCHAR(190) DEFAULT lease_owner();
    DECLARE v_deadline DATETIME(6) DEFAULT UTC_TIMESTAMP(6) + INTERVAL GREATEST(p_wait_seconds, 0) SECOND;
    DECLARE v_conflict TINYINT DEFAULT 0;
    DECLARE CONTINUE HANDLER FOR 1213, 1205 SET v_conflict = 1;

    SET p_won = 0;
    INSERT IGNORE INTO ticketdb_leases (name) VALUES (p_name);
    attempt: LOOP
        SET v_conflict = 0;
        UPDATE ticketdb_leases
        SET owner = v_owner,
            acquired_at = UTC_TIMESTAMP(6),
            expires_at = UTC_TIMESTAMP(6) + INTERVAL p_ttl_seconds SECOND,
            wins = wins + 1
        WHERE name = p_name
          AND (expires_at <= UTC_TIMESTAMP(6) OR owner = v_owner
               OR acquired_at <= UTC_TIMESTAMP(6) - INTERVAL p_ttl_seconds SECOND);
        IF v_conflict = 0 AND ROW_COUNT() = 1 THEN
            SET p_won = 1;
            LEAVE attempt;
        END IF;
        IF UTC_TIMESTAMP(6) >= v_deadline THEN
            LEAVE attempt;
        END IF;
        DO SLEEP(0.2);
    END LOOP attempt;
END
