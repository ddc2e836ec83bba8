import type { SubscriptionStatus, SubscriptionType } from '../events/types.js';
import type { DEVICES } from './content.js';
import { WeightedChoice } from './random.js';

// What the simulated world is made of (generator/world.ts steps it): the mix of event families,
// the subscription status machine, the entities it keeps, and how late a late event is.

/** The app's mix, events per second: user 20, subscription 5, lesson 100, and the rest of the
 * 1,000,000 events/hour default (about 152.8/s) is app engagement. Shares hold at any rate. */
export const MIX = { user: 20, subscription: 5, lesson: 100, engagement: 1_000_000 / 3600 - 125 } as const;

/** Allowed subscription status changes (an update may also keep the status: a plan change). */
export const SUBSCRIPTION_TRANSITIONS: Record<SubscriptionStatus, readonly SubscriptionStatus[]> = {
  trial: ['active', 'cancelled', 'expired'],
  active: ['active', 'past_due', 'cancelled'],
  past_due: ['active', 'cancelled'],
  cancelled: ['active'],
  expired: ['active'],
};
export const NEXT_STATUS_WEIGHTS: Record<SubscriptionStatus, WeightedChoice> = {
  trial: new WeightedChoice([70, 20, 10]),
  active: new WeightedChoice([30, 40, 30]),
  past_due: new WeightedChoice([70, 30]),
  cancelled: new WeightedChoice([1]),
  expired: new WeightedChoice([1]),
};

export interface User {
  uuid: string;
  country: string;
  device: (typeof DEVICES)[number];
  appVersion: string;
  firstname: string;
  lastname: string;
  active: boolean;
  subscriptions: Subscription[];
}

export interface Subscription {
  user: User;
  language: string;
  status: SubscriptionStatus;
  type: SubscriptionType;
  /** Index of the course in COURSES[language] being taken, and lessons done in it. */
  course: number;
  done: number;
  /** Position in World.learning while lessons remain, else -1. */
  slot: number;
}

export interface Game {
  language: string;
  difficulty: string;
  resumesLeft: number;
  attempts: number;
}

export interface Session {
  id: string;
  user: User;
  startedAt: number;
  gamesLeft: number;
  game: Game | null;
}

export interface SentNotification {
  id: string;
  user: User;
  campaign: string;
}

/** Lesson and notification events may be made late: delaying them breaks no ordering rule. */
export const LATE_ELIGIBLE_SHARE =
  (MIX.lesson + MIX.engagement * 0.13) / (MIX.user + MIX.subscription + MIX.lesson + MIX.engagement);

const HOUR_MS = 3_600_000;
/** Late events are 1 to 72 hours old: well past any buffer, well inside the lake's 7-day window. */
export const LATE_MIN_MS = HOUR_MS;
export const LATE_MAX_MS = 72 * HOUR_MS;
