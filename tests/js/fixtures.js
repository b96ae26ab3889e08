// Where the real platform payloads live: shared/fixtures beside the repository (CI clones
// main with shared/ next to it), or FIXTURES_DIR.
import { fileURLToPath } from 'node:url';

export const FIXTURES = process.env.FIXTURES_DIR ?? fileURLToPath(new URL('../../../shared/fixtures', import.meta.url));
