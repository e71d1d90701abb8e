export * from './interfaces';
export * from './labels';
export * from './protocol';
export * from './socket';
