/** Lifecycle status of a registration (seed 000). */
export const SERVICE_STATUSES = ['active', 'inactive', 'expired', 'unhealthy'] as const;
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];

/** Observed health from active checks (seed 003). */
export const HEALTH_STATES = ['unknown', 'healthy', 'degraded', 'unhealthy'] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

/** Statuses a client may set through `PUT /services/{id}`: the rest are Beacon's to decide. */
export const SETTABLE_STATUSES = ['active', 'inactive'] as const;
export type SettableStatus = (typeof SETTABLE_STATUSES)[number];
