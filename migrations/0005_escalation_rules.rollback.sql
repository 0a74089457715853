DELETE FROM escalation_rules WHERE from_priority = 'medium';
DROP TABLE escalation_rules;
