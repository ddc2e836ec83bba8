SELECT language, count(*)::BIGINT AS rows
FROM curated
GROUP BY language
ORDER BY language;
