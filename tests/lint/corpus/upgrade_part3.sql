-- sourced by upgrade.sql with \.
INSERT INTO wh_note_kind (kind) VALUES ('general') ON DUPLICATE KEY UPDATE kind = kind;
