/** `@beacon/client/nats`: typed access to Beacon's NATS events for server-side users (being written). */
export const NATS_ENTRY = 'nats';
