#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so `npx firelake` works straight after `npm ci`.
import { register } from 'tsx/esm/api';

register();
await import('../cli/index.ts');
