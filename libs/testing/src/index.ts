export * from './ports';
export * from './nats-server';
export * from './app-process';
export * from './event-recorder';
export * from './netns';
export * from './binaries';
export * from './live-clients';
