import { describe, expect, it } from 'vitest';
import {
  type CatalogSnapshot,
  catalogSnapshot,
  formatIncompatibility,
  incompatibilities,
  readReleased,
} from '../../events/compat.js';

// Versioned schemas: the catalog in the code against the snapshot of the released
// catalog, events/released.json. The first test is the gate; the others show what it catches.

const problems = (released: CatalogSnapshot, current: CatalogSnapshot) =>
  incompatibilities(released, current).map(formatIncompatibility);

/** The current catalog, changed by `edit`. */
function changed(edit: (c: CatalogSnapshot) => void): CatalogSnapshot {
  const copy = structuredClone(catalogSnapshot());
  edit(copy);
  return copy;
}

describe('catalog compatibility', () => {
  it('keeps the catalog compatible with the released one (events/released.json)', () => {
    const found = problems(readReleased(), catalogSnapshot());
    if (found.length > 0) {
      throw new Error(
        `the catalog breaks the released one (events/released.json):\n  ${found.join('\n  ')}\n` +
          "Make the change compatible, or bump the schema's x-version with a note in x-changes on how older days read; run `npm run catalog:release` when releasing.",
      );
    }
  });

  it('fails a breaking change with the schema, the field and the reason', () => {
    const released = catalogSnapshot();
    const current = changed((c) => {
      delete c.schemas.game!.properties.score;
      c.schemas.lesson!.properties.percentage_completed_in_course!.type = 'number';
      c.schemas.lesson!.required.push('title');
      c.schemas.subscription!.properties.language!.maxLength = 8;
      c.schemas.session!.properties.device!.enum = ['iOS', 'Android'];
      delete c.events['notification:opened'];
      c.curated_columns.received_at = 'VARCHAR';
    });
    expect(problems(released, current).sort()).toEqual(
      [
        'game/score: field removed (its values would no longer have a column) (bump x-version above 1 with a note to allow it)',
        'lesson/percentage_completed_in_course: type changed from integer to number (bump x-version above 1 with a note to allow it)',
        'lesson/title: newly required: events without it, accepted before, would be quarantined (bump x-version above 1 with a note to allow it)',
        'subscription/language: maxLength lowered from 64 to 8 (bump x-version above 1 with a note to allow it)',
        'session/device: new enum ["iOS","Android"] would quarantine values accepted before (bump x-version above 1 with a note to allow it)',
        'notification: event name notification:opened is gone: its events would be quarantined as unknown_event (bump x-version above 1 with a note to allow it)',
        'curated/received_at: curated type changed from TIMESTAMP to VARCHAR',
      ].sort(),
    );
  });

  it('passes a compatible change: an optional field added, a keyword loosened, a required field relaxed', () => {
    const released = catalogSnapshot();
    const current = changed((c) => {
      c.schemas.game!.properties.xp = { type: 'integer' };
      c.schemas.subscription!.properties.language!.maxLength = 128;
      c.schemas.session!.required = c.schemas.session!.required.filter((f) => f !== 'session_id');
      c.events['game:abandoned'] = 'game';
    });
    expect(problems(released, current)).toEqual([]);
  });

  it('accepts a breaking change when the version is bumped with a note, and only then', () => {
    const released = catalogSnapshot();
    const bumped = changed((c) => {
      c.schemas.lesson!.required.push('title');
      c.schemas.lesson!.version = 2;
    });
    expect(problems(released, bumped)).toEqual([
      'lesson/title: newly required: events without it, accepted before, would be quarantined; version 2 needs a note in x-changes["2"] on how older days read',
    ]);
    bumped.schemas.lesson!.changes['2'] =
      'title is required from v2; days before hold lessons without it (null).';
    expect(problems(released, bumped)).toEqual([]);
    const back = changed((c) => {
      c.schemas.user!.version = 0;
    });
    expect(problems(released, back)).toEqual(['user: version went back from 1 to 0']);
  });
});
