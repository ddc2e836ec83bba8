-- Consistency of values the schemas cannot relate: lesson progress fields agree with each
-- other, and subscription periods are positive.
WITH
  lessons AS (
    SELECT
      event_specifics.number_of_lessons_in_course AS total,
      event_specifics.completed_lessons_in_course AS completed,
      event_specifics.percentage_completed_in_course AS percentage
    FROM curated WHERE event_name = 'lesson:completed'
  ),
  subscriptions AS (
    SELECT event_specifics.subscription_period AS period
    FROM curated WHERE event_type = 'subscription'
  )
SELECT
  (SELECT count(*) FROM lessons) AS lessons,
  (SELECT count(*) FROM lessons WHERE completed > total) AS completed_over_total,
  -- The app may round or truncate: less than one point off is consistent. Lessons already
  -- counted as completed > total are not counted again.
  (SELECT count(*) FROM lessons
     WHERE total > 0 AND completed <= total AND abs(percentage - 100.0 * completed / total) >= 1)
    AS percentage_mismatch,
  (SELECT count(*) FROM subscriptions) AS subscriptions,
  (SELECT count(*) FROM subscriptions WHERE period IS NULL OR period <= 0) AS non_positive_period;
