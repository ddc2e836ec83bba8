// The fan-out unit's default size, apart from compaction/plan.ts (which loads DuckDB) so that
// `firelake compact --help` shows it cheaply.

/**
 * Gzip staging bytes a unit holds at least; units are cut between this and twice this, and a
 * day under twice this keeps the single run. Curated files are cut per unit and language near
 * 512 MB (DEFAULT_FILE_SIZE_BYTES): from 2 GiB a unit gives a language with 6% of the events
 * (each of the ten generated languages) files of about 128 MB or more, the band's floor. Below
 * 4 GiB a unit fits one worker Lambda: its work folder peaks at 2.2x the unit's gzip (measured,
 * `npm run bench compaction`), 8.7 GiB of the 10 GiB /tmp, and about 5.5 minutes of its 15.
 */
export const DEFAULT_UNIT_BYTES = 2 * 1024 ** 3;
