import { type CheckList, type Figures, num } from './checks.js';

// The checks on what the events say: enrichment found the user's country and subscription,
// lesson and subscription figures agree with each other, and values stay in the vocabulary and
// bounds the app is expected to send.

export function contentChecks(list: CheckList, figures: Figures): void {
  const { add } = list;
  // Enrichment.
  const e = figures.enrichment![0]!;
  const lessons = num(e.lessons);
  add(
    'enrichment.country_share',
    lessons ? num(e.country_share) : null,
    lessons
      ? `${num(e.with_country)} of ${lessons} lesson events have a country (${num(e.missing_user) + num(e.missing_both)} without a known user)`
      : 'no lesson events',
    'min',
  );
  add(
    'enrichment.subscription_share',
    lessons ? num(e.subscription_share) : null,
    lessons
      ? `${num(e.with_subscription)} of ${lessons} lesson events have a subscription for their language`
      : 'no lesson events',
    'min',
  );

  // Consistency.
  const c = figures.consistency![0]!;
  add(
    'consistency.completed_over_total',
    num(c.completed_over_total),
    `${num(c.completed_over_total)} of ${num(c.lessons)} lessons completed more lessons than the course has`,
  );
  add(
    'consistency.percentage_mismatch',
    num(c.percentage_mismatch),
    `${num(c.percentage_mismatch)} of ${num(c.lessons)} lessons with a percentage 1 point or more off completed/total`,
  );
  add(
    'consistency.non_positive_period',
    num(c.non_positive_period),
    `${num(c.non_positive_period)} of ${num(c.subscriptions)} subscription events with a period <= 0 days`,
  );

  // Vocabulary and bounds: what the app is expected to send (x-expected in events/schemas.ts).
  for (const v of figures.vocabulary!) {
    const values = num(v.values);
    const top = (v.top_unexpected ?? []) as { value: string; count: unknown }[];
    add(
      `vocabulary.${String(v.field)}`,
      values ? num(v.unexpected_share) : null,
      values === 0
        ? 'no values'
        : top.length === 0
          ? `${values} values, all expected`
          : `${num(v.unexpected)} of ${values} values not expected: ` +
            top.map((t) => `${JSON.stringify(t.value)} ${num(t.count)}`).join(', ') +
            (num(v.unexpected) > top.reduce((sum, t) => sum + num(t.count), 0) ? ', ...' : ''),
    );
  }
  for (const b of figures.bounds!) {
    const values = num(b.values);
    const range = `${b.minimum ?? '-inf'}..${b.maximum ?? 'inf'}`;
    const what = b.measure === 'length' ? 'lengths' : 'values';
    add(
      `bounds.${String(b.field)}`,
      values ? num(b.outside_share) : null,
      values === 0
        ? 'no values'
        : `${num(b.outside)} of ${values} ${what} outside ${range} (seen ${num(b.lowest)}..${num(b.highest)})`,
    );
  }
}
