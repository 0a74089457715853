-- lease_release(p_name): give back a lease this session holds (no-op otherwise). Commits on
-- its own like lease_acquire; a certification failure is retried (the row is ours, so the
-- retry wins), and if it still fails the lease simply expires at its TTL.
CREATE PROCEDURE lease_release(IN p_name VARCHAR(190))
MODIFIES SQL DATA
SQL SECURITY DEFINER
COMMENT 'release a ticketdb_leases row held by this session'
BEGIN
    DECLARE v_owner VARCHAR(190) DEFAULT lease_owner();
    DECLARE v_attempt INT DEFAULT 0;
    DECLARE v_conflict TINYINT DEFAULT 0;
    DECLARE CONTINUE HANDLER FOR 1213, 1205 SET v_conflict = 1;
    attempt: LOOP
        SET v_conflict = 0;
        UPDATE ticketdb_leases
        SET owner = NULL, expires_at = '1970-01-02 00:00:00'
        WHERE name = p_name AND owner = v_owner;
        SET v_attempt = v_attempt + 1;
        IF v_conflict = 0 OR v_attempt >= 5 THEN
            LEAVE attempt;
        END IF;
        DO SLEEP(0.05 * v_attempt);
    END LOOP attempt;
END
