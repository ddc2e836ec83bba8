import { LANGUAGES } from '../lake/settings.js';
import { Random } from './random.js';

// The app's fixed content: languages, courses, campaigns, names. Every string here is spliced
// into JSON templates unescaped (the hot path avoids JSON.stringify), so each is checked below
// to need no escaping.

export { LANGUAGES };
/** Popularity of each language above (learners choose Spanish far more often than Swedish). */
export const LANGUAGE_WEIGHTS = [30, 18, 14, 9, 6, 8, 7, 5, 5, 4, 3, 2, 2, 2];

const LANGUAGE_NAMES: Record<string, string> = {
  es: 'Spanish',
  fr: 'French',
  de: 'German',
  it: 'Italian',
  pt: 'Portuguese',
  en: 'English',
  ja: 'Japanese',
  ko: 'Korean',
  zh: 'Chinese',
  ru: 'Russian',
  nl: 'Dutch',
  sv: 'Swedish',
  tr: 'Turkish',
  pl: 'Polish',
};

export const COUNTRIES = [
  'US',
  'GB',
  'DE',
  'FR',
  'ES',
  'IT',
  'BR',
  'MX',
  'CA',
  'AU',
  'NL',
  'SE',
  'PL',
  'JP',
  'IN',
];
export const COUNTRY_WEIGHTS = [25, 10, 12, 8, 6, 5, 7, 5, 4, 3, 3, 2, 3, 3, 4];

export const DEVICES = ['iOS', 'Android', 'Web'] as const;
export const DEVICE_WEIGHTS = [45, 40, 15];
export const STORES: Record<(typeof DEVICES)[number], string> = {
  iOS: 'app_store',
  Android: 'play_store',
  Web: 'web',
};
export const APP_VERSIONS = ['5.12.0', '5.13.0', '5.13.1', '5.14.0', '5.15.0'];
export const APP_VERSION_WEIGHTS = [5, 10, 15, 30, 40];

export const CONTENT_RELEASES = ['2026.44.1', '2026.45.0', '2026.46.2', '2026.47.0'];
export const CONTENT_RELEASE_WEIGHTS = [5, 10, 25, 60];

export const CAMPAIGNS = [
  'daily_reminder',
  'streak_at_risk',
  'new_course',
  'weekly_summary',
  'comeback_offer',
];
export const DIFFICULTIES = ['Easy', 'Medium', 'Hard'] as const;

// biome-ignore format: a table
export const FIRST_NAMES = [
  'Ada', 'Ben', 'Chloe', 'Diego', 'Elif', 'Femi', 'Greta', 'Hiro', 'Ines', 'Jonas',
  'Kaito', 'Lena', 'Mateo', 'Nora', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sven', 'Tara',
  'Umar', 'Vera', 'Wei', 'Ximena', 'Yusuf', 'Zoe',
];
// biome-ignore format: a table
export const LAST_NAMES = [
  'Almeida', 'Becker', 'Chen', 'Dubois', 'Eriksson', 'Fischer', 'Garcia', 'Hansen', 'Ito',
  'Jensen', 'Kowalski', 'Lopez', 'Moreau', 'Novak', 'Okafor', 'Petrov', 'Rossi', 'Silva',
  'Tanaka', 'Usman', 'Varga', 'Weber', 'Yilmaz', 'Zhang',
];

export const SUBSCRIPTION_TYPES = ['free', 'basic', 'premium', 'family'] as const;
export const SUBSCRIPTION_TYPE_WEIGHTS = [20, 35, 35, 10];

// biome-ignore format: a table
const TOPICS = [
  'Greetings', 'Ordering food', 'Directions', 'Family', 'At work', 'Travel', 'Shopping',
  'Health', 'Past tense', 'Future plans', 'Small talk', 'Culture', 'News', 'Idioms',
];
const LEVELS = ['A1', 'A2', 'B1', 'B2', 'C1'];

export interface Course {
  uuid: string;
  language: string;
  title: string;
  lessons: number;
  /** `"language":..,"course_uuid":..,"course_title":..,"number_of_lessons_in_course":N` */
  fragment: string;
  /** Lesson titles, index = lesson number - 1. */
  lessonTitles: string[];
}

/**
 * The course catalog: per language a fixed sequence of courses a learner goes through in order.
 * Built from its own constant seed: the catalog is the app's content, the same whatever `--seed`.
 */
export const COURSES: Record<string, Course[]> = (() => {
  const random = new Random(0x0c0ffee);
  const catalog: Record<string, Course[]> = {};
  for (const language of LANGUAGES) {
    const courses: Course[] = [];
    for (const level of LEVELS) {
      for (let k = 0; k < 3; k++) {
        const topic = TOPICS[(courses.length * 5 + language.charCodeAt(0)) % TOPICS.length]!;
        const title = `${LANGUAGE_NAMES[language]} ${level}: ${topic}`;
        const uuid = random.uuid();
        const lessons = random.between(6, 30);
        courses.push({
          uuid,
          language,
          title,
          lessons,
          fragment: `"language":"${language}","course_uuid":"${uuid}","course_title":"${title}","number_of_lessons_in_course":${lessons}`,
          lessonTitles: Array.from({ length: lessons }, (_, i) => `${topic} ${i + 1}`),
        });
      }
    }
    catalog[language] = courses;
  }
  return catalog;
})();

export function languageName(code: string): string {
  return LANGUAGE_NAMES[code] ?? code;
}

// Guard the unescaped splicing: a quote, backslash or control character here would corrupt JSON.
for (const s of [
  ...LANGUAGES,
  ...Object.values(LANGUAGE_NAMES),
  ...COUNTRIES,
  ...APP_VERSIONS,
  ...CONTENT_RELEASES,
  ...CAMPAIGNS,
  ...FIRST_NAMES,
  ...LAST_NAMES,
  ...Object.values(COURSES).flatMap((cs) => cs.flatMap((c) => [c.title, ...c.lessonTitles])),
]) {
  if (JSON.stringify(s) !== `"${s}"`)
    throw new Error(`content string needs JSON escaping: ${JSON.stringify(s)}`);
}
