-- Without --fix: every selected record as it is, in the order it was read.
SELECT origin, payload FROM quarantined ORDER BY seq;
