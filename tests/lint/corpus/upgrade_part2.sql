-- sourced by upgrade.sql
CREATE TABLE IF NOT EXISTS wh_note_kind (
    kind VARCHAR(20) NOT NULL PRIMARY KEY
) ENGINE = InnoDB;
