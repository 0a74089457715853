-- A vendored folder that happens to be called procedures/: several routines in one file,
-- named unlike the file. Not this project's one-object-per-file layout.
DELIMITER //
DROP PROCEDURE IF EXISTS rpt_daily //
CREATE PROCEDURE rpt_daily(IN p_day DATE)
    READS SQL DATA
    SQL SECURITY INVOKER
BEGIN
    SELECT p_day AS day, COUNT(*) AS n FROM information_schema.schemata;
END //
DROP PROCEDURE IF EXISTS rpt_weekly //
CREATE PROCEDURE rpt_weekly(IN p_week DATE)
    READS SQL DATA
    SQL SECURITY INVOKER
BEGIN
    CALL rpt_daily(p_week);
END //
DELIMITER ;
