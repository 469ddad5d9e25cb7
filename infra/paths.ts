import { fileURLToPath } from 'node:url';

/** The repository's root directory: the functions, the workflow and the configuration file are found from it. */
export const REPOSITORY_ROOT = fileURLToPath(new URL('..', import.meta.url));
