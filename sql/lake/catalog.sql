-- Generated from events/catalog.ts and events/schemas.ts by `npx tsx sql/generate.ts`: do not edit.
-- The specifics fields each event name should carry, for the completeness check.
CREATE OR REPLACE TEMP TABLE catalog_required (event_name VARCHAR, field VARCHAR);
INSERT INTO catalog_required VALUES
  ('user:created', 'uuid'),
  ('user:created', 'country'),
  ('user:created', 'active'),
  ('user:updated', 'uuid'),
  ('user:updated', 'country'),
  ('user:updated', 'active'),
  ('subscription:created', 'user_uuid'),
  ('subscription:created', 'language'),
  ('subscription:created', 'subscription_status'),
  ('subscription:created', 'subscription_type'),
  ('subscription:created', 'subscription_period'),
  ('subscription:updated', 'user_uuid'),
  ('subscription:updated', 'language'),
  ('subscription:updated', 'subscription_status'),
  ('subscription:updated', 'subscription_type'),
  ('subscription:updated', 'subscription_period'),
  ('lesson:completed', 'language'),
  ('lesson:completed', 'user_uuid'),
  ('lesson:completed', 'content_release_id'),
  ('lesson:completed', 'title'),
  ('lesson:completed', 'course_uuid'),
  ('lesson:completed', 'course_title'),
  ('lesson:completed', 'number_of_lessons_in_course'),
  ('lesson:completed', 'completed_lessons_in_course'),
  ('lesson:completed', 'percentage_completed_in_course'),
  ('game:started', 'user_uuid'),
  ('game:started', 'language_id'),
  ('game:started', 'session_id'),
  ('game:started', 'device'),
  ('game:started', 'difficulty'),
  ('game:resumed', 'user_uuid'),
  ('game:resumed', 'language_id'),
  ('game:resumed', 'session_id'),
  ('game:resumed', 'device'),
  ('game:resumed', 'difficulty'),
  ('game:completed', 'user_uuid'),
  ('game:completed', 'language_id'),
  ('game:completed', 'session_id'),
  ('game:completed', 'device'),
  ('game:completed', 'difficulty'),
  ('session:started', 'user_uuid'),
  ('session:started', 'session_id'),
  ('session:started', 'device'),
  ('session:started', 'app_version'),
  ('session:ended', 'user_uuid'),
  ('session:ended', 'session_id'),
  ('session:ended', 'device'),
  ('session:ended', 'app_version'),
  ('app:installed', 'install_id'),
  ('app:installed', 'device'),
  ('app:installed', 'app_version'),
  ('app:installed', 'country'),
  ('notification:sent', 'user_uuid'),
  ('notification:sent', 'notification_id'),
  ('notification:sent', 'campaign'),
  ('notification:sent', 'device'),
  ('notification:opened', 'user_uuid'),
  ('notification:opened', 'notification_id'),
  ('notification:opened', 'campaign'),
  ('notification:opened', 'device');

-- The values an app is expected to send (x-expected lists), for the vocabulary check.
CREATE OR REPLACE TEMP TABLE catalog_vocabulary (field VARCHAR, expected VARCHAR[]);
INSERT INTO catalog_vocabulary VALUES
  ('device', ['iOS', 'Android', 'Web']),
  ('difficulty', ['Easy', 'Medium', 'Hard']),
  ('operation', ['create', 'update']),
  ('store', ['app_store', 'play_store', 'web']),
  ('subscription_status', ['trial', 'active', 'past_due', 'cancelled', 'expired']),
  ('subscription_type', ['free', 'basic', 'premium', 'family']);

-- Expected bounds of a number (measure value) or of a length (measure length), for the bounds check.
CREATE OR REPLACE TEMP TABLE catalog_bounds (field VARCHAR, measure VARCHAR, minimum DOUBLE, maximum DOUBLE);
INSERT INTO catalog_bounds VALUES
  ('app_version', 'length', 1, 32),
  ('attempts', 'value', 0, NULL),
  ('campaign', 'length', 1, NULL),
  ('completed_lessons_in_course', 'value', 0, NULL),
  ('country', 'length', 2, 2),
  ('duration', 'value', 0, NULL),
  ('number_of_lessons_in_course', 'value', 1, NULL),
  ('percentage_completed_in_course', 'value', 0, 100),
  ('score', 'value', 0, NULL),
  ('subscription_period', 'value', 1, NULL);

-- The curated values of those fields as (field, value) rows, read in one pass.
CREATE OR REPLACE TEMP MACRO catalog_vocabulary_values() AS TABLE
SELECT unnest([
  {'field': 'device', 'value': event_specifics."device"},
  {'field': 'difficulty', 'value': event_specifics."difficulty"},
  {'field': 'operation', 'value': event_specifics."operation"},
  {'field': 'store', 'value': event_specifics."store"},
  {'field': 'subscription_status', 'value': event_specifics."subscription_status"},
  {'field': 'subscription_type', 'value': event_specifics."subscription_type"}
], recursive := true) FROM curated;
CREATE OR REPLACE TEMP MACRO catalog_bounds_values() AS TABLE
SELECT unnest([
  {'field': 'app_version', 'value': length(event_specifics."app_version")::DOUBLE},
  {'field': 'attempts', 'value': event_specifics."attempts"::DOUBLE},
  {'field': 'campaign', 'value': length(event_specifics."campaign")::DOUBLE},
  {'field': 'completed_lessons_in_course', 'value': event_specifics."completed_lessons_in_course"::DOUBLE},
  {'field': 'country', 'value': length(event_specifics."country")::DOUBLE},
  {'field': 'duration', 'value': event_specifics."duration"::DOUBLE},
  {'field': 'number_of_lessons_in_course', 'value': event_specifics."number_of_lessons_in_course"::DOUBLE},
  {'field': 'percentage_completed_in_course', 'value': event_specifics."percentage_completed_in_course"::DOUBLE},
  {'field': 'score', 'value': event_specifics."score"::DOUBLE},
  {'field': 'subscription_period', 'value': event_specifics."subscription_period"::DOUBLE}
], recursive := true) FROM curated;
