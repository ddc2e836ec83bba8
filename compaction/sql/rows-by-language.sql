SELECT language_id, language FROM file_plan ORDER BY language;
