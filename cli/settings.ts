import {
  DEFAULT_SETTINGS,
  resolveSettings,
  SETTING_SPECS,
  type SettingKey,
  type SettingNames,
  SettingsError,
  type SharedSettings,
  settingsFromEnv,
} from '../lake/settings.js';

// The shared settings as the CLI commands take them (docs/settings.md): the FIRELAKE_* variables
// over the defaults, a command's own flags over those, checked by the rules every path checks.
// `serve` and `start` read them for the transform they run, `compact --nightly` and `replay` for
// theirs; the same variables in one shell keep the commands agreeing, as the stack does in AWS.

const LOCAL_KEYS = Object.keys(SETTING_SPECS).filter(
  (k) => SETTING_SPECS[k as SettingKey].localEnv !== undefined,
) as SettingKey[];

/**
 * Reads and checks the settings; `flags` holds a command's flags (undefined when not given),
 * keyed by setting, with the flag's name. Throws a SettingsError naming each setting as the user
 * set it (the flag, or the variable) and the rule it breaks.
 */
export function cliSettings(
  env: Record<string, string | undefined>,
  flags: Partial<Record<SettingKey, { flag: string; value: number | undefined }>> = {},
): SharedSettings {
  const problems: string[] = [];
  const fromEnv = settingsFromEnv(env, 'local', LOCAL_KEYS, problems);
  if (problems.length > 0) throw new SettingsError(`Firelake settings: ${problems.join('; ')}`);
  const names: SettingNames = {};
  const fromFlags: Partial<SharedSettings> = {};
  for (const [key, given] of Object.entries(flags) as [SettingKey, { flag: string; value?: number }][]) {
    if (given.value === undefined) continue;
    fromFlags[key] = given.value;
    names[key] = given.flag;
  }
  return resolveSettings({ ...fromEnv, ...fromFlags }, 'local', names);
}

/** One help line per variable, for a command's --help. */
export function settingsHelp(): string {
  const lines = LOCAL_KEYS.map(
    (k) =>
      `  ${SETTING_SPECS[k].localEnv} (default ${DEFAULT_SETTINGS[k as keyof typeof DEFAULT_SETTINGS]}): ${SETTING_SPECS[k].summary}`,
  );
  return `\nShared settings, from the environment (docs/settings.md):\n${lines.join('\n')}\n`;
}
