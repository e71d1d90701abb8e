/** `@beacon/client`: Beacon's TypeScript SDK (being written; see docs/sdk.md once it lands). */
export const CLIENT_VERSION = '0.1.0';
