import { runMain } from '@beacon/platform';
import { appName, envSchema, start } from './start';

runMain(appName, envSchema, () => start(process.env));
