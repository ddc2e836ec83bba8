import type { EventName } from '../events/catalog.js';
import {
  APP_VERSION_WEIGHTS,
  APP_VERSIONS,
  CAMPAIGNS,
  CONTENT_RELEASE_WEIGHTS,
  CONTENT_RELEASES,
  COUNTRIES,
  COUNTRY_WEIGHTS,
  COURSES,
  type Course,
  DEVICE_WEIGHTS,
  DEVICES,
  DIFFICULTIES,
  FIRST_NAMES,
  LANGUAGE_WEIGHTS,
  LANGUAGES,
  LAST_NAMES,
  languageName,
  STORES,
  SUBSCRIPTION_TYPE_WEIGHTS,
  SUBSCRIPTION_TYPES,
} from './content.js';
import { type Random, WeightedChoice } from './random.js';
import {
  LATE_MAX_MS,
  LATE_MIN_MS,
  MIX,
  NEXT_STATUS_WEIGHTS,
  type SentNotification,
  type Session,
  SUBSCRIPTION_TRANSITIONS,
  type Subscription,
  type User,
} from './world-model.js';

// The simulated user base. Each call to next() advances the world by one event and returns its
// JSON line (the mix, the status machine and the entities are in generator/world-model.ts), so
// every event is consistent with everything emitted before it:
// - a user exists (user:created) before any event refers to it;
// - a subscription (user, language) is created before it is updated and before lessons of that
//   language; its status moves along SUBSCRIPTION_TRANSITIONS;
// - lessons go through the courses of a language in order, one lesson at a time, so
//   completed_lessons_in_course only grows and the percentage agrees with it;
// - a session starts, its games start, maybe resume, complete inside it, then it ends;
// - a notification is sent before it is opened.
// Lines are built from string templates: JSON.stringify per event would dominate the run time.

/** Share of created_at values written as ISO-8601 strings instead of epoch seconds. */
const ISO_SHARE = 0.02;
/** Users who subscribe are picked among the most recent sign-ups. */
const RECENT_USERS = 2_000;
const MAX_SUBSCRIPTIONS_PER_USER = 3;

export class World {
  /** Name and uuid of the last event next() returned, and whether it was made late. */
  name: EventName = 'user:created';
  uuid = '';
  late = false;

  private readonly users: User[] = [];
  private readonly subscriptions: Subscription[] = [];
  /** Subscriptions with lessons left to take. */
  private readonly learning: Subscription[] = [];
  private readonly sessions: Session[] = [];
  private readonly sent: SentNotification[] = [];
  private readonly maxSessions: number;

  private readonly category = new WeightedChoice([MIX.user, MIX.subscription, MIX.lesson, MIX.engagement]);
  private readonly engagement = new WeightedChoice([85, 9, 4, 2]);
  private readonly languages = new WeightedChoice(LANGUAGE_WEIGHTS);
  private readonly countries = new WeightedChoice(COUNTRY_WEIGHTS);
  private readonly devices = new WeightedChoice(DEVICE_WEIGHTS);
  private readonly appVersions = new WeightedChoice(APP_VERSION_WEIGHTS);
  private readonly releases = new WeightedChoice(CONTENT_RELEASE_WEIGHTS);
  private readonly types = new WeightedChoice(SUBSCRIPTION_TYPE_WEIGHTS);

  /**
   * @param ratePerSecond the base rate: it sizes the pool of open sessions so a session lasts
   *   about a minute of event time whatever the rate.
   */
  constructor(
    private readonly random: Random,
    ratePerSecond: number,
  ) {
    // Starting a session gets rarer as the pool fills (see sessionStep), which settles at 7/8 of
    // this size with sessions of about 70 s of event time whatever the rate.
    const sessionSteps =
      (ratePerSecond * MIX.engagement * 0.85) / (MIX.user + MIX.subscription + MIX.lesson + MIX.engagement);
    this.maxSessions = Math.max(4, Math.round(sessionSteps * 10));
  }

  /**
   * Advances the world by one event at event time `t` (epoch ms) and returns its JSON line.
   * With `late`, a lesson or notification event gets a created_at 1-72 hours before `t`.
   */
  next(t: number, late = false): string {
    this.late = false;
    switch (this.category.pick(this.random)) {
      case 0:
        return this.users.length === 0 || this.random.chance(0.3) ? this.userCreated(t) : this.userUpdated(t);
      case 1:
        return this.subscriptions.length === 0 || this.random.chance(0.4)
          ? this.subscriptionCreated(t)
          : this.subscriptionUpdated(t);
      case 2:
        return this.lesson(t, late);
      default:
        return this.engage(t, late);
    }
  }

  private lateTime(t: number): number {
    this.late = true;
    return t - LATE_MIN_MS - this.random.int(LATE_MAX_MS - LATE_MIN_MS);
  }

  private envelope(name: EventName, t: number, specifics: string): string {
    this.name = name;
    this.uuid = this.random.uuid();
    const createdAt = this.random.chance(ISO_SHARE) ? `"${new Date(t).toISOString()}"` : `${t / 1000}`;
    return `{"event_uuid":"${this.uuid}","created_at":${createdAt},"event_name":"${name}","event_specifics":{${specifics}}}`;
  }

  private userSpecifics(user: User, operation: string): string {
    return `"operation":"${operation}","name":"${user.firstname} ${user.lastname}","uuid":"${user.uuid}","firstname":"${user.firstname}","lastname":"${user.lastname}","country":"${user.country}","active":${user.active}`;
  }

  private userCreated(t: number): string {
    const r = this.random;
    const user: User = {
      uuid: r.uuid(),
      country: COUNTRIES[this.countries.pick(r)]!,
      device: DEVICES[this.devices.pick(r)]!,
      appVersion: APP_VERSIONS[this.appVersions.pick(r)]!,
      firstname: r.pick(FIRST_NAMES),
      lastname: r.pick(LAST_NAMES),
      active: true,
      subscriptions: [],
    };
    this.users.push(user);
    return this.envelope('user:created', t, this.userSpecifics(user, 'create'));
  }

  private userUpdated(t: number): string {
    const r = this.random;
    const user = r.pick(this.users);
    const change = r.int(10);
    if (change < 5) user.lastname = r.pick(LAST_NAMES);
    else if (change < 8) user.active = !user.active;
    else user.country = COUNTRIES[this.countries.pick(r)]!;
    return this.envelope('user:updated', t, this.userSpecifics(user, 'update'));
  }

  private subscriptionSpecifics(s: Subscription, operation: string): string {
    const period = s.status === 'trial' ? 14 : s.type === 'free' ? 365 : 30;
    const name = `${languageName(s.language)} ${s.type}`;
    return `"operation":"${operation}","name":"${name}","user_uuid":"${s.user.uuid}","language":"${s.language}","subscription_status":"${s.status}","subscription_type":"${s.type}","subscription_period":${period}`;
  }

  private subscriptionCreated(t: number): string {
    const r = this.random;
    if (this.users.length === 0) return this.userCreated(t);
    const from = Math.max(0, this.users.length - RECENT_USERS);
    const user = this.users[from + r.int(this.users.length - from)]!;
    const language = LANGUAGES[this.languages.pick(r)]!;
    if (
      user.subscriptions.length >= MAX_SUBSCRIPTIONS_PER_USER ||
      user.subscriptions.some((s) => s.language === language)
    ) {
      // This user is done subscribing: a new sign-up keeps the mix and the ordering intact.
      return this.userCreated(t);
    }
    const type = SUBSCRIPTION_TYPES[this.types.pick(r)]!;
    const s: Subscription = {
      user,
      language,
      status: type === 'free' ? 'active' : 'trial',
      type,
      course: 0,
      done: 0,
      slot: this.learning.length,
    };
    user.subscriptions.push(s);
    this.subscriptions.push(s);
    this.learning.push(s);
    return this.envelope('subscription:created', t, this.subscriptionSpecifics(s, 'create'));
  }

  private subscriptionUpdated(t: number): string {
    const r = this.random;
    const s = r.pick(this.subscriptions);
    const next = SUBSCRIPTION_TRANSITIONS[s.status];
    const status = next[NEXT_STATUS_WEIGHTS[s.status].pick(r)]!;
    if (status === 'active' && s.status === 'active') {
      // A plan change: the status stays, the type moves.
      s.type = SUBSCRIPTION_TYPES[(SUBSCRIPTION_TYPES.indexOf(s.type) + 1 + r.int(3)) % 4]!;
    }
    s.status = status;
    return this.envelope('subscription:updated', t, this.subscriptionSpecifics(s, 'update'));
  }

  private lesson(now: number, late: boolean): string {
    const r = this.random;
    let s: Subscription | undefined;
    // Learners with a lapsed subscription take fewer lessons: try a few times for a live one.
    for (let i = 0; i < 3 && this.learning.length > 0; i++) {
      s = this.learning[r.int(this.learning.length)]!;
      if (s.status !== 'cancelled' && s.status !== 'expired') break;
    }
    if (!s) {
      // Nobody can take a lesson yet: the world grows first (ordering over the exact mix).
      return this.subscriptionCreated(now);
    }
    const t = late ? this.lateTime(now) : now;
    const courses = COURSES[s.language]!;
    const course: Course = courses[s.course]!;
    s.done++;
    const done = s.done;
    if (done === course.lessons) {
      s.course++;
      s.done = 0;
      if (s.course === courses.length) this.retire(s);
    }
    const percentage = Math.floor((done * 100) / course.lessons);
    const release = CONTENT_RELEASES[this.releases.pick(r)]!;
    return this.envelope(
      'lesson:completed',
      t,
      `"content_release_id":"${release}","title":"${course.lessonTitles[done - 1]}",${course.fragment},"completed_lessons_in_course":${done},"percentage_completed_in_course":${percentage},"user_uuid":"${s.user.uuid}"`,
    );
  }

  /** Every course of the language done: no more lessons for this subscription. */
  private retire(s: Subscription): void {
    const last = this.learning.pop()!;
    if (last !== s) {
      this.learning[s.slot] = last;
      last.slot = s.slot;
    }
    s.slot = -1;
  }

  private engage(t: number, late: boolean): string {
    if (this.users.length === 0) return this.userCreated(t);
    switch (this.engagement.pick(this.random)) {
      case 0:
        return this.sessionStep(t);
      case 1:
        return this.notificationSent(late ? this.lateTime(t) : t);
      case 2:
        return this.notificationOpened(late ? this.lateTime(t) : t);
      default:
        return this.installed(t);
    }
  }

  private client(user: User): string {
    return `"device":"${user.device}","app_version":"${user.appVersion}","country":"${user.country}"`;
  }

  private sessionStep(t: number): string {
    const r = this.random;
    if (r.float() * this.maxSessions >= this.sessions.length) {
      const user = r.pick(this.users);
      const session: Session = { id: r.uuid(), user, startedAt: t, gamesLeft: r.int(5), game: null };
      this.sessions.push(session);
      return this.envelope(
        'session:started',
        t,
        `"user_uuid":"${user.uuid}","session_id":"${session.id}",${this.client(user)}`,
      );
    }
    const i = r.int(this.sessions.length);
    const session = this.sessions[i]!;
    const head = `"user_uuid":"${session.user.uuid}","session_id":"${session.id}",${this.client(session.user)}`;
    const game = session.game;
    if (game) {
      game.attempts += 1 + r.int(5);
      const common = `${head},"language_id":"${game.language}","difficulty":"${game.difficulty}"`;
      if (game.resumesLeft > 0) {
        game.resumesLeft--;
        return this.envelope('game:resumed', t, `${common},"attempts":${game.attempts}`);
      }
      session.game = null;
      return this.envelope(
        'game:completed',
        t,
        `${common},"score":${r.int(101)},"attempts":${game.attempts}`,
      );
    }
    if (session.gamesLeft > 0) {
      session.gamesLeft--;
      const subs = session.user.subscriptions;
      const language = subs.length > 0 ? r.pick(subs).language : LANGUAGES[this.languages.pick(r)]!;
      session.game = {
        language,
        difficulty: r.pick(DIFFICULTIES),
        resumesLeft: r.chance(0.3) ? 1 + r.int(2) : 0,
        attempts: 0,
      };
      return this.envelope(
        'game:started',
        t,
        `${head},"language_id":"${language}","difficulty":"${session.game.difficulty}"`,
      );
    }
    // Swap-remove: O(1), and the pool's order does not matter.
    const last = this.sessions.pop()!;
    if (i < this.sessions.length) this.sessions[i] = last;
    return this.envelope(
      'session:ended',
      t,
      `${head},"duration":${Math.max(0, t - session.startedAt) / 1000}`,
    );
  }

  private notificationSent(t: number): string {
    const r = this.random;
    const n: SentNotification = { id: r.uuid(), user: r.pick(this.users), campaign: r.pick(CAMPAIGNS) };
    if (this.sent.length >= 10_000) this.sent[r.int(this.sent.length)] = n;
    else this.sent.push(n);
    return this.notification('notification:sent', t, n);
  }

  private notificationOpened(t: number): string {
    if (this.sent.length === 0) return this.notificationSent(t);
    const i = this.random.int(this.sent.length);
    const n = this.sent[i]!;
    const last = this.sent.pop()!;
    if (i < this.sent.length) this.sent[i] = last;
    return this.notification('notification:opened', t, n);
  }

  private notification(name: EventName, t: number, n: SentNotification): string {
    return this.envelope(
      name,
      t,
      `"user_uuid":"${n.user.uuid}","notification_id":"${n.id}","campaign":"${n.campaign}",${this.client(n.user)}`,
    );
  }

  private installed(t: number): string {
    const r = this.random;
    const device = DEVICES[this.devices.pick(r)]!;
    // Most installs come before sign-up, so they have no user yet.
    const user = r.chance(0.4) ? `"user_uuid":"${r.pick(this.users).uuid}",` : '';
    return this.envelope(
      'app:installed',
      t,
      `"install_id":"${r.uuid()}",${user}"device":"${device}","app_version":"${APP_VERSIONS[this.appVersions.pick(r)]}","country":"${COUNTRIES[this.countries.pick(r)]}","store":"${STORES[device]}"`,
    );
  }
}
